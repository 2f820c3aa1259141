//! Shared by the test binaries: the REST shim (`shim.rs`) that speaks Upstash's documented
//! REST format on top of the real Redis at `REDIS_URL` (default 127.0.0.1:6379), the
//! backend factory for the conformance suite, and helpers. Tests fail loudly when Redis is
//! missing; they never skip.

#![allow(dead_code, unused_imports, unreachable_pub)] // each test binary uses part of it

mod shim;

use std::sync::Arc;

use async_trait::async_trait;
use mastra_pubsub::EventEmitterPubSub;
use mastra_test::{Backend, BackendFactory, CacheSettings};
use mastra_upstash::UpstashServerCache;

pub use shim::{shared_shim, Fault, Shim};

/// The token the shim accepts.
pub const TOKEN: &str = "AX-test-token/with+odd=chars";

/// The URL of the test Redis.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("mastra-test:{}:cache:", uuid::Uuid::new_v4().simple())
}

/// An independent client (the `redis` crate) to inspect what the cache wrote.
pub async fn inspector() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis must be running for these tests")
}

/// Opens Upstash REST backends over the shared shim: an `UpstashServerCache` with a unique
/// key prefix per `open`, and an in-process pubsub (the REST cache is only a cache).
#[derive(Debug, Clone, Copy, Default)]
pub struct UpstashBackend;

#[async_trait]
impl BackendFactory for UpstashBackend {
    fn name(&self) -> &str {
        "upstash-rest"
    }

    async fn open(&self, settings: CacheSettings) -> Backend {
        open_with(unique_prefix(), settings)
    }

    async fn reopen(&self, backend: &Backend) -> Backend {
        let debug = format!("{:?}", backend.cache);
        open_with(between(&debug, "prefix: \"", "\""), backend.settings)
    }

    fn enforces_key_cap(&self) -> bool {
        false
    }
}

fn open_with(prefix: String, settings: CacheSettings) -> Backend {
    let config = shared_shim()
        .config()
        .with_key_prefix(prefix)
        .with_default_ttl(settings.ttl);
    Backend {
        pubsub: Arc::new(EventEmitterPubSub::with_capacity(64)),
        cache: Arc::new(UpstashServerCache::new(config).expect("cache")),
        settings,
    }
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).expect("prefix in Debug output") + start.len();
    let to = text[from..].find(end).expect("end of prefix") + from;
    text[from..to].to_owned()
}
