//! `demo-agent`: the built-in demo model and the demo tools, optionally paced (so that a
//! test can stop or kill a process in the middle of a model stream or of a tool call).

use async_trait::async_trait;
use mastra_core::tool::{SharedTool, Tool, ToolContext};
use mastra_core::{demo, Agent, ToolError};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// The id of the one agent `mastra serve` serves.
pub(crate) const AGENT_ID: &str = "demo-agent";

/// The demo agent: `model_delay` before each streamed part, `tool_delay` before each tool
/// answers.
pub(crate) fn demo_agent(model_delay: Duration, tool_delay: Duration) -> Agent {
    let tools = demo::demo_tools()
        .into_iter()
        .map(|tool| match tool_delay.is_zero() {
            true => tool,
            false => Arc::new(SlowTool {
                inner: tool,
                delay: tool_delay,
            }) as SharedTool,
        });
    Agent::builder(AGENT_ID, demo::DemoModel::new().with_delay(model_delay))
        .name("Demo Agent")
        .instructions(
            "You are a helpful assistant. Try: count to 5, weather in Paris, calculate 2 * (3 + 4).",
        )
        .tools(tools)
        .build()
}

/// A tool that waits before it runs (an abort of the run ends the wait).
struct SlowTool {
    inner: SharedTool,
    delay: Duration,
}

#[async_trait]
impl Tool for SlowTool {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn description(&self) -> &str {
        self.inner.description()
    }

    fn input_schema(&self) -> Value {
        self.inner.input_schema()
    }

    fn require_approval(&self) -> bool {
        self.inner.require_approval()
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<Value, ToolError> {
        tokio::select! {
            () = ctx.abort.aborted() => return Err(ToolError::execution("aborted")),
            () = tokio::time::sleep(self.delay) => {}
        }
        self.inner.execute(args, ctx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use mastra_core::{ChunkKind, StreamOptions};

    #[tokio::test]
    async fn a_slow_tool_answers_like_the_tool_it_wraps() {
        let agent = demo_agent(Duration::ZERO, Duration::from_millis(30));
        let started = std::time::Instant::now();
        let mut chunks = agent.stream("weather in Paris", StreamOptions::new());
        let mut result = None;
        while let Some(chunk) = chunks.next().await {
            if let ChunkKind::ToolResult(tool) = chunk.kind {
                result = Some(tool.result);
            }
        }
        let expected = serde_json::to_value(demo::demo_weather("Paris")).unwrap();
        assert_eq!(result, Some(expected));
        assert!(started.elapsed() >= Duration::from_millis(30));
    }
}
