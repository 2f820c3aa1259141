//! # mastra-server
//!
//! The HTTP edge of durable agents: upstream Mastra's agent routes (`@mastra/server`,
//! wire-contract §6) over axum, so `@mastra/client-js` and browsers can start runs, stream
//! them, and pick them up again from any event index after a disconnect.
//!
//! ```no_run
//! use mastra_core::{demo, Agent};
//! use mastra_durable::{create_durable_agent, Mastra};
//! use mastra_server::{serve, ServerConfig};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let agent = Agent::builder("demo-agent", demo::DemoModel::new())
//!     .tools(demo::demo_tools())
//!     .build();
//! let mastra = Mastra::builder()
//!     .durable_agent(create_durable_agent(agent))
//!     .build()?;
//! // Bearer tokens from MASTRA_API_TOKENS (none: open API); stops on SIGTERM / Ctrl-C.
//! serve(mastra, "127.0.0.1:4111", ServerConfig::from_env()).await?;
//! # Ok(()) }
//! ```
//!
//! Then `curl -N localhost:4111/api/agents/demo-agent/stream -d '{"messages":"count to 5"}'`
//! streams `data: {"type":"start","runId":"<id>",...}` blocks up to `data: [DONE]`; after a
//! hang-up, `POST .../observe {"runId":"<id>","offset":<next index>}` sends the rest.
//!
//! | route (prefix `/api`) | body | response |
//! |---|---|---|
//! | `GET /agents`, `GET /agents/:agentId` | - | agent details (name, instructions, tools) |
//! | `POST /agents/:agentId/generate` | `{messages, runId?, maxSteps?, memory?, ...}` | JSON output |
//! | `POST /agents/:agentId/stream` | same | SSE of chunks |
//! | `POST /agents/:agentId/observe` | `{runId, offset?}` | SSE of envelopes |
//! | `GET /agents/:agentId/observe?runId&offset` | `Last-Event-ID` | SSE with `id:` lines |
//! | `POST /agents/:agentId/resume-stream` | `{runId, resumeData, toolCallId?}` | SSE of chunks |
//! | `POST /agents/:agentId/{approve,decline}-tool-call` | `{runId, toolCallId}` | SSE of chunks |
//! | `POST /agents/:agentId/abort` | `{runId}` | `{runId, status}` |
//!
//! `GET /` serves a chat page for `demo-agent` (plain JavaScript): it streams answers, and
//! after a reload mid-answer resumes from the last index it showed.
//!
//! [`router`] gives the axum `Router` to embed in an application; [`serve`] and
//! [`serve_on`] run it with graceful shutdown. Errors are JSON `{"error": ".."}`: 400 for a
//! malformed body or offset, 401 without a valid token, 404 for an unknown agent or run (or
//! another resource's run), 409 for a run that cannot take the request, 413 over the body
//! limit. This crate has no feature flags.

mod auth;
mod config;
mod error;
mod frames;
mod page;
mod request;
mod routes;
mod run_stream;
mod scope;
mod server;
pub mod shutdown;
pub mod sse;

pub use config::{
    ApiToken, Cors, ServerConfig, DEFAULT_BODY_LIMIT, DEFAULT_HEARTBEAT, DEFAULT_MAX_TRACKED_RUNS,
    DEFAULT_OBSERVE_IDLE, TOKENS_ENV,
};
pub use error::ApiError;
pub use server::{router, serve, serve_on};
pub use shutdown::{termination_signal, Shutdown};
