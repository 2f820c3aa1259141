//! Runs a step's tool calls: concurrently, at most [`MAX_CONCURRENT_TOOLS`] at once, results
//! streamed and kept in call order. A failing tool becomes a `tool-error`; the loop goes on.
//! Calls that need approval, or whose tool suspended itself, wait in the state for an answer.

use super::run::RunExecutor;
use super::sink::{ChunkSink, SinkClosed};
use super::state::{Approval, PendingCall, PendingStep, Suspension, SuspensionKind};
use super::AgentInner;
use crate::chunk::{
    ChunkKind, DataPayload, ToolApprovalPayload, ToolErrorPayload, ToolResultPayload,
    ToolSuspendedPayload,
};
use crate::tool::ToolContext;
use crate::{ErrorInfo, ToolError, ToolResultInfo};
use futures::{FutureExt, StreamExt};
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::mpsc;
use tracing::Instrument;

/// How many tool calls of one step run at the same time.
pub const MAX_CONCURRENT_TOOLS: usize = 10;

/// How a tool pass ended.
pub(super) enum ToolsOutcome {
    /// Every call has its result.
    Complete,
    /// Some calls wait for a person or for resume data.
    Suspended(Vec<Suspension>),
    Aborted,
}

impl<S: ChunkSink> RunExecutor<S> {
    /// Runs every call of `pending` that can run now, recording each result in the call.
    pub(super) async fn execute_tools(
        &mut self,
        pending: &mut PendingStep,
    ) -> Result<ToolsOutcome, SinkClosed> {
        let abort = self.abort.clone();
        let (data_tx, mut data_rx) = mpsc::unbounded_channel::<DataPayload>();
        let runnable: Vec<_> = pending
            .calls
            .iter()
            .enumerate()
            .filter(|(_, call)| self.can_run(call))
            .map(|(index, call)| {
                let ctx =
                    ToolContext::new(&self.state.run_id, &call.info.tool_call_id, abort.child())
                        .with_writer(data_tx.clone());
                let span = self.tool_call_span(call);
                let run = run_tool(self.agent.clone(), call.clone(), ctx).instrument(span);
                run.map(move |outcome| (index, outcome))
            })
            .collect();
        drop(data_tx);
        let mut results = futures::stream::iter(runnable).buffered(MAX_CONCURRENT_TOOLS);
        loop {
            let next = tokio::select! {
                biased;
                _ = abort.aborted() => return Ok(ToolsOutcome::Aborted),
                Some(data) = data_rx.recv() => {
                    self.emit(ChunkKind::Data(data)).await?;
                    continue;
                }
                next = results.next() => next,
            };
            let Some((index, outcome)) = next else { break };
            while let Ok(data) = data_rx.try_recv() {
                self.emit(ChunkKind::Data(data)).await?;
            }
            let call = &mut pending.calls[index];
            self.emit(record(call, outcome)).await?;
        }

        let suspensions = pending.suspensions(self.needs_approval_fn());
        if suspensions.is_empty() {
            return Ok(ToolsOutcome::Complete);
        }
        for suspension in &suspensions {
            if suspension.kind == SuspensionKind::Approval {
                let payload = ToolApprovalPayload {
                    tool_call_id: suspension.tool_call_id.clone(),
                    tool_name: suspension.tool_name.clone(),
                    args: suspension.args.clone(),
                };
                self.emit(ChunkKind::ToolCallApproval(payload)).await?;
            }
        }
        Ok(ToolsOutcome::Suspended(suspensions))
    }

    /// Whether a call may run in this pass.
    fn can_run(&self, call: &PendingCall) -> bool {
        if call.result.is_some() {
            return false;
        }
        if call.suspend_payload.is_some() {
            return call.resume_data.is_some();
        }
        call.approval.is_some() || !(self.needs_approval_fn())(call)
    }

    /// Whether a call must wait for a person's approval before it runs.
    fn needs_approval_fn(&self) -> impl Fn(&PendingCall) -> bool + '_ {
        move |call: &PendingCall| {
            call.args_error.is_none()
                && (self.state.require_tool_approval
                    || self
                        .agent
                        .tool(&call.info.tool_name)
                        .is_some_and(|t| t.require_approval()))
        }
    }
}

/// Stores a call's outcome and returns the chunk that reports it.
fn record(call: &mut PendingCall, outcome: Result<Value, ToolError>) -> ChunkKind {
    let info = &call.info;
    let (result, error) = match outcome {
        Err(ToolError::Suspend(payload)) => {
            call.suspend_payload = Some(payload.clone());
            call.resume_data = None;
            return ChunkKind::ToolCallSuspended(ToolSuspendedPayload {
                tool_call_id: info.tool_call_id.clone(),
                tool_name: info.tool_name.clone(),
                suspend_payload: payload,
                args: info.args.clone(),
            });
        }
        Ok(result) => (result, None),
        Err(error) => (
            Value::Null,
            Some(ErrorInfo::new(error.name(), error.to_string())),
        ),
    };
    let kind = match &error {
        None => ChunkKind::ToolResult(ToolResultPayload {
            tool_call_id: info.tool_call_id.clone(),
            tool_name: info.tool_name.clone(),
            result: result.clone(),
            is_error: None,
            args: Some(info.args.clone()),
        }),
        Some(error) => ChunkKind::ToolError(ToolErrorPayload {
            tool_call_id: info.tool_call_id.clone(),
            tool_name: info.tool_name.clone(),
            args: Some(info.args.clone()),
            error: error.clone(),
        }),
    };
    call.result = Some(ToolResultInfo {
        tool_call_id: info.tool_call_id.clone(),
        tool_name: info.tool_name.clone(),
        args: info.args.clone(),
        result,
        error,
    });
    kind
}

async fn run_tool(
    agent: Arc<AgentInner>,
    call: PendingCall,
    mut ctx: ToolContext,
) -> Result<Value, ToolError> {
    let name = &call.info.tool_name;
    let Some(tool) = agent.tool(name) else {
        return Err(ToolError::UnknownTool(name.clone()));
    };
    if let Some(message) = call.args_error {
        return Err(ToolError::InvalidArgs {
            tool: name.clone(),
            message,
        });
    }
    if call.approval == Some(Approval::Declined) {
        return Err(ToolError::Declined);
    }
    ctx.resume_data = call.resume_data;
    // A panicking tool is a failed call, not a crashed run.
    AssertUnwindSafe(tool.execute(call.info.args, ctx))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(ToolError::execution(format!("tool `{name}` panicked"))))
}
