//! Resumable streams: the indexed run log over pubsub and cache ([`CachingPubSub`]), and
//! observing a run from any offset ([`ReplaySubscription`]).
//!
//! Every event of a run is appended to the run's log in a
//! [`ServerCache`](mastra_cache::ServerCache), which gives it its 0-based index, and only
//! then published live with that index. An observer joins at any offset: it subscribes
//! live first, replays the log from the offset, then follows the live events, dropping
//! what it already delivered, so it sees every index exactly once. When live delivery
//! skips an index, reports a lag or reconnects, the observer reads the log again.
//!
//! ```
//! use std::sync::Arc;
//! use mastra_cache::InMemoryServerCache;
//! use mastra_durable::{agent_stream_topic, CachingPubSub, ObserveOptions};
//! use mastra_pubsub::{Event, EventEmitterPubSub, EventType, PublishOptions};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mastra_durable::DurableError> {
//! let pubsub = CachingPubSub::new(
//!     Arc::new(EventEmitterPubSub::new()),
//!     Arc::new(InMemoryServerCache::new()),
//! );
//! let topic = agent_stream_topic("run-1");
//! for text in ["Hel", "lo"] {
//!     let chunk = Event::new(EventType::Chunk, "run-1", json!({ "text": text }));
//!     pubsub.publish_event(&topic, chunk, PublishOptions::default()).await?;
//! }
//! let finish = Event::new(EventType::Finish, "run-1", json!({}));
//! pubsub.publish_event(&topic, finish, PublishOptions::default()).await?;
//!
//! // A client that saw event 0 reconnects with offset 1: it gets 1 and 2, then the
//! // stream ends at the terminal `finish`.
//! let mut observer = pubsub.observe(&topic, ObserveOptions::from_offset(1)).await?;
//! let mut seen = Vec::new();
//! while let Some(event) = observer.next().await {
//!     seen.push(event?.index);
//! }
//! assert_eq!(seen, [Some(1), Some(2)]);
//! # Ok(())
//! # }
//! ```
//!
//! This crate has no feature flags.

pub mod agent;
mod caching;
pub mod control;
pub mod engine;
mod error;
mod log;
mod mastra;
mod observe;
pub mod store;
mod topics;
mod writer;

pub use agent::{
    create_durable_agent, event_chunk, DurableAgent, DurableAgentBuilder, DurableStream, RunAnswer,
};
pub use caching::{CachingOptions, CachingPubSub, Pipelining};
pub use engine::{ExecutionEngine, LocalEngine};
pub use error::DurableError;
pub use log::RunLog;
pub use mastra::{Mastra, MastraBuilder, RegisteredAgent};
pub use observe::{ObserveOptions, ReplaySubscription};
pub use store::{InMemoryRunStore, RunRecord, RunStatus, RunStore};
pub use topics::{
    agent_control_topic, agent_stream_topic, AGENT_CONTROL_PREFIX, AGENT_STREAM_PREFIX,
    DEFAULT_KEY_PREFIX, WORKFLOWS_TOPIC,
};
pub use writer::TopicSender;
