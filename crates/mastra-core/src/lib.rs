//! # mastra-core
//!
//! Agents for Rust, streaming chunks in upstream Mastra's wire format. An [`Agent`] has a
//! model, instructions and tools; [`Agent::stream`] runs the multi-step loop (model call,
//! tool calls, next step) and streams [`Chunk`]s; [`Agent::generate`] returns the whole
//! [`AgentOutput`].
//!
//! ```
//! use futures::StreamExt;
//! use mastra_core::{demo, Agent, StreamOptions};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let agent = Agent::builder("assistant", demo::DemoModel::new())
//!     .instructions("You are a helpful assistant")
//!     .tools(demo::demo_tools())
//!     .build();
//!
//! let mut stream = agent.stream("count to 3", StreamOptions::new());
//! let mut text = String::new();
//! while let Some(chunk) = stream.next().await {
//!     if let mastra_core::ChunkKind::TextDelta(delta) = &chunk.kind {
//!         text.push_str(&delta.text);
//!     }
//! }
//! assert_eq!(text, "1 2 3");
//! # }
//! ```
//!
//! The contracts: [`LanguageModel`] (one streaming call per step) and [`Tool`] (typed tools via
//! [`tool::tool`]). Built-in models: [`demo::DemoModel`] (rule-based, offline) and
//! [`scripted::ScriptedModel`] (plays back scripted responses, for tests). Providers for real
//! APIs live in their own crates (`mastra-openai`).

mod abort;
pub mod agent;
pub mod chunk;
pub mod demo;
mod error;
mod message;
mod model;
pub mod scripted;
mod step;
pub mod tool;
mod usage;

pub use abort::AbortSignal;
pub use agent::{
    Agent, AgentBuilder, AgentOutput, AgentStream, Approval, Callback, Callbacks, ChunkSink,
    OutputCollector, RunExecutor, RunState, SinkClosed, StepProgress, StreamOptions, Suspension,
    SuspensionKind, DEFAULT_MAX_STEPS,
};
pub use chunk::{Chunk, ChunkFrom, ChunkKind};
pub use error::{AgentError, ErrorInfo, ModelError, ToolError};
pub use message::{ContentPart, Message, MessageInput, Role};
pub use model::{
    LanguageModel, ModelPart, ModelRequest, ModelSettings, ModelStream, ToolChoice, ToolDefinition,
};
pub use step::{StepResult, ToolCallInfo, ToolResultInfo};
pub use tool::{SharedTool, Tool, ToolContext};
pub use usage::{FinishReason, Usage};
