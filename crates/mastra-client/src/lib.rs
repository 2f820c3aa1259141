//! # mastra-client
//!
//! A Rust client for a Mastra server's agent routes (`@mastra/server`'s `/api`,
//! wire-contract §6), as served by `mastra-server` or upstream: list agents, generate,
//! stream typed [`Chunk`](mastra_core::Chunk)s, observe typed
//! [`Event`](mastra_pubsub::Event) envelopes, answer approvals, resume and abort runs.
//!
//! Its streams survive the network: [`MastraClient::observe`] remembers the index after
//! the last envelope it delivered and, when the connection is lost, observes again from
//! there (exponential backoff, bounded retries, see [`RetryPolicy`]); the stream of
//! [`MastraClient::stream`] continues through `observe` the same way. Either way the
//! caller sees every event exactly once.
//!
//! ```no_run
//! use futures::StreamExt;
//! use mastra_client::{AgentRequest, MastraClient};
//!
//! # #[tokio::main] async fn main() -> Result<(), mastra_client::ClientError> {
//! // `mastra serve` listens on 127.0.0.1:4111 with a durable `demo-agent`.
//! let client = MastraClient::new("http://127.0.0.1:4111")?;
//! let mut chunks = client.stream("demo-agent", &AgentRequest::new("count to 5")).await?;
//! let run_id = chunks.run_id().to_owned();
//! while let Some(chunk) = chunks.next().await {
//!     println!("{}", chunk?.type_name()); // start, step-start, text-start, text-delta, ...
//! }
//!
//! // Later, anyone may replay the run's envelopes from any index.
//! let mut events = client.observe("demo-agent", &run_id, 3);
//! while let Some(event) = events.next().await {
//!     let event = event?;
//!     println!("{:?} {:?}", event.index, event.kind);
//! }
//! # Ok(()) }
//! ```
//!
//! A run continued by another worker after a crash (the evented engine) announces the re-run
//! step with an `ownership-claimed` envelope (docs/crash-recovery.md); [`RunAssembly`]
//! assembles text, reasoning and tool calls from envelopes or chunks, dropping what the
//! interrupted attempt streamed and events of superseded owners, so the text after a crash
//! equals the text of a run without one ([`ChunkStream::text`], [`ObserveStream::assemble`]).
//!
//! Errors are [`ClientError`]s that carry the server's status and `{"error": ..}` message
//! and say whether trying again may help ([`ClientError::is_retryable`]). [`sse`] holds the
//! SSE parser (wire-contract §7). This crate has no feature flags.

mod assemble;
mod chunks;
mod client;
mod envelope;
mod error;
mod observe;
mod request;
mod retry;
pub mod sse;
mod stream;

pub use assemble::{Applied, OwnershipClaim, RunAssembly, OWNERSHIP_CLAIMED};
pub use chunks::ChunkStream;
pub use client::{MastraClient, DEFAULT_STREAM_IDLE};
pub use envelope::envelope_chunk;
pub use error::ClientError;
pub use observe::ObserveStream;
pub use request::{AbortAnswer, AgentDetails, AgentRequest};
pub use retry::RetryPolicy;
