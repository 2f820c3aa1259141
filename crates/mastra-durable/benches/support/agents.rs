//! The agents the durable benches run: a two-tool-step run of about 50 chunks.

use mastra_cache::{InMemoryServerCache, InMemoryServerCacheOptions};
use mastra_core::tool::{tool, ToolContext};
use mastra_core::{
    Agent, FinishReason, LanguageModel, ModelError, ModelPart, ModelRequest, ModelStream, Role,
    ToolError, Usage,
};
use mastra_durable::{create_durable_agent, DurableAgent, DurableAgentBuilder};
use mastra_pubsub::EventEmitterPubSub;
use std::sync::Arc;

/// Text deltas of the final step.
pub(crate) const TEXT_DELTAS: usize = 36;

/// Calls `noop` twice (one step each), then answers with [`TEXT_DELTAS`] deltas.
pub(crate) struct TwoToolSteps;

#[async_trait::async_trait]
impl LanguageModel for TwoToolSteps {
    fn provider(&self) -> &str {
        "bench"
    }
    fn model_id(&self) -> &str {
        "two-tool-steps"
    }
    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        let tool_turns = request
            .messages
            .iter()
            .filter(|m| m.role == Role::Tool)
            .count();
        let mut parts = Vec::new();
        let reason = if tool_turns < 2 {
            let id = format!("call_{tool_turns}");
            parts.push(ModelPart::ToolCallStart {
                id: id.clone(),
                name: "noop".into(),
            });
            parts.push(ModelPart::ToolCallDelta {
                id: id.clone(),
                args_delta: "{}".into(),
            });
            parts.push(ModelPart::ToolCall {
                id,
                name: "noop".into(),
                args: "{}".into(),
            });
            FinishReason::ToolCalls
        } else {
            parts.extend(
                (0..TEXT_DELTAS).map(|_| ModelPart::TextDelta("abcdefghijklmnopqrs ".into())),
            );
            FinishReason::Stop
        };
        parts.push(ModelPart::Finish {
            reason,
            usage: Usage::new(10, 10),
        });
        Ok(Box::pin(futures::stream::iter(parts.into_iter().map(Ok))))
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Empty {}

pub(crate) fn plain_agent() -> Agent {
    let noop = tool(
        "noop",
        "does nothing",
        |_: Empty, _ctx: ToolContext| async move { Ok::<_, ToolError>(1) },
    );
    Agent::builder("bench", TwoToolSteps).tool(noop).build()
}

/// The same agent, durable, over in-memory backends with room for `max_keys` run logs.
pub(crate) fn durable_agent(max_keys: u64) -> DurableAgent {
    durable_builder(max_keys).build()
}

/// [`durable_agent`] with pipelined log appends (not the in-memory default), to measure
/// what the writer's task hop costs where an append is cheap.
pub(crate) fn durable_agent_pipelined(max_keys: u64) -> DurableAgent {
    durable_builder(max_keys)
        .pipelining(mastra_durable::Pipelining::On)
        .build()
}

fn durable_builder(max_keys: u64) -> DurableAgentBuilder {
    let cache = InMemoryServerCache::with_options(
        InMemoryServerCacheOptions::default().with_max_keys(max_keys),
    );
    create_durable_agent(plain_agent())
        .pubsub(Arc::new(EventEmitterPubSub::new()))
        .cache(Arc::new(cache))
        .cleanup_timeout(std::time::Duration::from_millis(1))
}

/// The same durable agent with the default cleanup timeout (its logs outlive the run).
pub(crate) fn durable_agent_keeping_logs() -> DurableAgent {
    create_durable_agent(plain_agent())
        .pubsub(Arc::new(EventEmitterPubSub::new()))
        .cache(Arc::new(InMemoryServerCache::new()))
        .build()
}
