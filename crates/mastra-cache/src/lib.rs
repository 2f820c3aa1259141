//! The [`ServerCache`] contract (keyed JSON values and indexed logs) with the moka-backed
//! [`InMemoryServerCache`].
//!
//! Durable runs keep every event in a per-run log so that an observer can replay it from
//! any offset. The log lives in a `ServerCache`: in process memory by default, in Redis
//! (its own crate) when several processes share runs. A log only grows through
//! [`ServerCache::append_indexed`], which allocates the entry's position and stores it in
//! the entry in one atomic step, so the index of an event is always its position.
//!
//! ```
//! use mastra_cache::{InMemoryServerCache, ServerCache, Ttl};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mastra_cache::CacheError> {
//! let cache = InMemoryServerCache::new(); // 300 s TTL, at most 1,000 keys
//! assert_eq!(cache.append_indexed("log", r#"{"type":"chunk"}"#).await?, 0);
//! assert_eq!(cache.append_indexed("log", r#"{"type":"finish"}"#).await?, 1);
//! assert_eq!(
//!     cache.list_range("log", 1, None).await?,
//!     vec![r#"{"index":1,"type":"finish"}"#.to_string()],
//! );
//!
//! cache.set("answer", serde_json::json!(42), Ttl::Never).await?;
//! assert_eq!(cache.get("answer").await?, Some(serde_json::json!(42)));
//! # Ok(())
//! # }
//! ```
//!
//! This crate has no feature flags.

mod cache;
mod error;
mod memory;

pub use cache::{entry_body, indexed_entry, ServerCache, Ttl};
pub use error::CacheError;
pub use memory::{InMemoryServerCache, InMemoryServerCacheOptions, DEFAULT_MAX_KEYS, DEFAULT_TTL};
