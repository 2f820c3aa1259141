//! # mastra-upstash
//!
//! [Upstash](https://upstash.com) Redis for mastra's durable runs, two ways:
//!
//! - **Over TLS** (`rediss://`, the default choice): [`tls_config`] turns the database's
//!   endpoint and token into a [`RedisConfig`](mastra_redis::RedisConfig), and every
//!   backend of `mastra-redis` runs on Upstash unchanged: the run log
//!   (`RedisServerCache`), live fan-out and consumer groups (`RedisPubSub`), leases. Use it
//!   wherever the process can open outbound TCP connections: servers, containers, VMs.
//! - **Over REST** (HTTPS only): [`UpstashServerCache`] keeps run logs through Upstash's
//!   REST API, for environments without outbound TCP (edge functions, some serverless
//!   platforms). It is only a cache: live events then travel through another
//!   `PubSub` (the in-process one, or a Redis one elsewhere); observers
//!   that reconnect catch up from the log, which is what must be shared.
//!
//! Both write the same bytes: the REST cache runs the append script of `mastra-redis`
//! through `EVAL`, under the same key prefix (`mastra:cache:`), with the same TTL rules, so a
//! log written over REST is read by a `RedisServerCache` and the other way round, in the
//! layout of upstream's `@mastra/redis` (wire-contract §5).
//!
//! ## Over TLS
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use mastra_redis::{RedisConnection, RedisPubSub, RedisServerCache};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The endpoint and token from the Upstash console; or `tls_config_from_env()`, which
//! // reads UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN (same host, same token).
//! let config = mastra_upstash::tls_config("eu1-able-cat-12345.upstash.io:6379", "AXtoken")?;
//! let connection = RedisConnection::connect(config).await?;
//! let cache = Arc::new(RedisServerCache::new(connection.clone()));
//! let pubsub = Arc::new(RedisPubSub::new(connection).await?);
//! // Hand both to `create_durable_agent(agent).cache(cache).pubsub(pubsub)` or to `Mastra`.
//! # let _ = (cache, pubsub);
//! # Ok(())
//! # }
//! ```
//!
//! ## Over REST
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use mastra_cache::ServerCache;
//! use mastra_upstash::{UpstashConfig, UpstashServerCache};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // From UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN ...
//! let cache = UpstashServerCache::from_env()?;
//! // ... or from code, with other settings.
//! let config = UpstashConfig::new("https://eu1-able-cat-12345.upstash.io", "AXtoken")
//!     .with_timeout(std::time::Duration::from_secs(2));
//! let cache = UpstashServerCache::new(config)?;
//!
//! // One POST (`EVAL`) per append; the index is the entry's position in the log.
//! let index = cache.append_indexed("pubsub:agent.stream.run-1", r#"{"type":"chunk"}"#).await?;
//! let entries = cache.list_range("pubsub:agent.stream.run-1", index, None).await?;
//! assert_eq!(entries[0], format!(r#"{{"index":{index},"type":"chunk"}}"#));
//!
//! // The durable agent takes it like any other cache.
//! let cache: Arc<dyn ServerCache> = Arc::new(cache);
//! # let _ = cache;
//! # Ok(())
//! # }
//! ```
//!
//! ## TLS or REST?
//!
//! | | TLS (`tls_config` + `mastra-redis`) | REST (`UpstashServerCache`) |
//! |---|---|---|
//! | needs | outbound TCP to port 6379 | outbound HTTPS only |
//! | provides | cache, live pubsub, consumer groups, leases | the cache (run logs) only |
//! | cost per append | one command on a pooled connection | one HTTPS request |
//! | good for | long-running servers | edge and serverless functions |
//!
//! **Errors.** [`UpstashServerCache`] retries what may pass (Upstash unreachable, a
//! timeout, HTTP 408/429/5xx) per [`UpstashConfig::retry`], then fails with the retryable
//! `CacheError::Unavailable`. A refused token (HTTP 401/403), a request refused as too
//! large (413), a response over [`UpstashConfig::max_response_bytes`] or one not in
//! Upstash's documented shape fail at once with a terminal `CacheError::Backend` whose
//! source is an [`UpstashError`] saying which.
//!
//! This crate has no feature flags. See also `docs/upstash.md`.

mod cache;
mod config;
mod error;
mod rest;
mod tls;

pub use cache::UpstashServerCache;
pub use config::{UpstashConfig, DEFAULT_MAX_RESPONSE_BYTES, TOKEN_VAR, URL_VAR};
pub use error::UpstashError;
pub use rest::UpstashRest;
pub use tls::{tls_config, tls_config_from_env, tls_url, UPSTASH_PORT};
