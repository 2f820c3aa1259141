//! Redis backends for mastra: a [`ServerCache`](mastra_cache::ServerCache) for run logs, a
//! [`PubSub`](mastra_pubsub::PubSub) for live events and consumer groups, and
//! [`LeaseProvider`](mastra_pubsub::LeaseProvider) leases, so several processes can share
//! durable runs. The layout of run logs is `@mastra/redis`'s (wire-contract §5): a Node
//! process and a Rust one can read each other's logs.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use mastra_durable::CachingPubSub;
//! use mastra_pubsub::{Event, EventType, PublishOptions};
//! use mastra_redis::{RedisConfig, RedisConnection, RedisPubSub, RedisServerCache};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // `REDIS_URL` (redis://, or rediss:// for TLS; credentials in the URL), else localhost.
//! let connection = RedisConnection::connect(RedisConfig::from_env()?).await?;
//! let cache = Arc::new(RedisServerCache::new(connection.clone()));
//! let pubsub = Arc::new(RedisPubSub::new(connection).await?);
//! let caching = CachingPubSub::new(pubsub, cache);
//!
//! // Logged at mastra:cache:pubsub:agent.stream.run-1 (index 0), then published live.
//! let event = Event::new(EventType::Chunk, "run-1", serde_json::json!({"text": "hi"}));
//! let index = caching
//!     .publish_event("agent.stream.run-1", event, PublishOptions::default())
//!     .await?;
//! assert_eq!(index, Some(0));
//!
//! // Any process sharing the Redis can replay the run from any offset.
//! let history = caching.history("agent.stream.run-1", 0).await?;
//! assert_eq!(history.len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! | piece | Redis |
//! |---|---|
//! | [`RedisServerCache`] | values: JSON strings (`SET PX`); logs: lists, appended by one Lua script (index = `LLEN`, `RPUSH` with `"index"` first, `:counter` kept in step, `PEXPIRE` of both) |
//! | [`RedisPubSub`] fan-out | `PUBLISH`/`SUBSCRIBE`, one channel per topic, resubscribed after a reconnect, then `Delivery::Reconnected`; publishes are queued and sent in order as pipelines (`flush` waits for them) |
//! | [`RedisPubSub`] groups | Streams: `XADD MAXLEN ~`, `XREADGROUP`, `XACK`, nack and dead consumers via `XAUTOCLAIM` |
//! | [`RedisLeases`] | `SET NX PX` plus a generation `INCR` in one script; renew/release compare-and-set |
//! | [`RedisWorkflowStore`] | a hash per run (`record` JSON, `generation`, `cancel`) plus a set of run ids; every fenced write is one compare-and-set script on the generation |
//! | [`RedisRunStore`] | a JSON string per paused run plus a set of run ids; `take` is one script (atomic, and safe to retry) |
//!
//! **Outages.** A lost connection is re-established forever, with exponential backoff
//! (50 ms to 2 s). A command fails after [`RedisConfig::command_timeout`]; cache commands,
//! appends included, are retried per [`RetryPolicy`] (a retried append cannot duplicate an
//! entry: the script checks whether the lost attempt landed), then fail with the
//! retryable `CacheError::Unavailable`, which the durable sink retries again.
//!
//! **Cluster.** A log and its `:counter` key are two upstream names without a hash tag,
//! so in Redis Cluster they may live in different slots and the append script (which
//! touches both) would be refused with `CROSSSLOT`. We keep upstream's names for
//! interoperability and support standalone Redis (and Sentinel) only; see
//! `docs/architecture.md`, "Redis backends".
//!
//! This crate has no feature flags; TLS (`rediss://`) uses rustls with the system's roots.

mod cache;
mod config;
mod connection;
mod error;
mod leases;
pub mod protocol;
mod pubsub;
mod run_store;
mod scripts;
mod workflow_enqueue;
mod workflow_lease;
mod workflow_store;

pub use cache::RedisServerCache;
pub use config::{
    RedisConfig, RetryPolicy, DEFAULT_CHANNEL_PREFIX, DEFAULT_KEY_PREFIX, DEFAULT_TTL, DEFAULT_URL,
};
pub use connection::RedisConnection;
pub use error::RedisError;
pub use leases::{RedisLeases, GENERATION_TTL};
pub use pubsub::RedisPubSub;
pub use run_store::RedisRunStore;
pub use workflow_store::RedisWorkflowStore;
