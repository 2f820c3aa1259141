//! Runs a step's tool calls: concurrently, at most [`MAX_CONCURRENT_TOOLS`] at once, results
//! streamed and kept in call order. A failing tool becomes a `tool-error`; the loop goes on.

use super::run::RunExecutor;
use super::sink::{ChunkSink, SinkClosed};
use super::state::PendingCall;
use super::AgentInner;
use crate::chunk::{ChunkKind, ToolErrorPayload, ToolResultPayload};
use crate::tool::ToolContext;
use crate::{AbortSignal, ErrorInfo, ToolError, ToolResultInfo};
use futures::{FutureExt, StreamExt};
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// How many tool calls of one step run at the same time.
pub const MAX_CONCURRENT_TOOLS: usize = 10;

impl<S: ChunkSink> RunExecutor<S> {
    /// Returns the results in call order, or `None` if the run was aborted meanwhile.
    pub(super) async fn execute_tools(
        &mut self,
        calls: &[PendingCall],
    ) -> Result<Option<Vec<ToolResultInfo>>, SinkClosed> {
        if calls.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let abort = self.abort.clone();
        let (agent, run_id) = (self.agent.clone(), self.state.run_id.clone());
        let runs: Vec<_> = calls
            .iter()
            .map(|call| {
                run_tool(
                    agent.clone(),
                    run_id.clone(),
                    call.info.tool_call_id.clone(),
                    call.info.tool_name.clone(),
                    call.info.args.clone(),
                    call.args_error.clone(),
                    abort.child(),
                )
            })
            .collect();
        let mut results = futures::stream::iter(runs).buffered(MAX_CONCURRENT_TOOLS);
        let mut collected = Vec::with_capacity(calls.len());
        loop {
            let next = tokio::select! {
                biased;
                _ = abort.aborted() => return Ok(None),
                next = results.next() => next,
            };
            let Some(result) = next else { break };
            let kind = match &result.error {
                None => ChunkKind::ToolResult(ToolResultPayload {
                    tool_call_id: result.tool_call_id.clone(),
                    tool_name: result.tool_name.clone(),
                    result: result.result.clone(),
                    is_error: None,
                    args: Some(result.args.clone()),
                }),
                Some(error) => ChunkKind::ToolError(ToolErrorPayload {
                    tool_call_id: result.tool_call_id.clone(),
                    tool_name: result.tool_name.clone(),
                    args: Some(result.args.clone()),
                    error: error.clone(),
                }),
            };
            self.emit(kind).await?;
            collected.push(result);
        }
        Ok(Some(collected))
    }
}

async fn run_tool(
    agent: Arc<AgentInner>,
    run_id: String,
    tool_call_id: String,
    tool_name: String,
    args: Value,
    args_error: Option<String>,
    abort: AbortSignal,
) -> ToolResultInfo {
    let outcome = match (agent.tool(&tool_name), args_error) {
        (None, _) => Err(ToolError::UnknownTool(tool_name.clone())),
        (Some(_), Some(message)) => Err(ToolError::InvalidArgs {
            tool: tool_name.clone(),
            message,
        }),
        (Some(tool), None) => {
            let ctx = ToolContext {
                run_id,
                tool_call_id: tool_call_id.clone(),
                abort,
            };
            // A panicking tool is a failed call, not a crashed run.
            AssertUnwindSafe(tool.execute(args.clone(), ctx))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Err(ToolError::execution(format!("tool `{tool_name}` panicked")))
                })
        }
    };
    let (result, error) = match outcome {
        Ok(result) => (result, None),
        Err(error) => (
            Value::Null,
            Some(ErrorInfo::new(error.name(), error.to_string())),
        ),
    };
    ToolResultInfo {
        tool_call_id,
        tool_name,
        args,
        result,
        error,
    }
}
