//! Shared by the Redis test binaries: the backend factory for the conformance suite and
//! helpers to open uniquely prefixed backends against the Redis at `REDIS_URL`
//! (default 127.0.0.1:6379). Tests fail loudly when Redis is missing; they never skip.

#![allow(dead_code)]

use std::sync::Arc;

use async_trait::async_trait;
use mastra_redis::{RedisConfig, RedisConnection, RedisPubSub, RedisServerCache};
use mastra_test::{Backend, BackendFactory, CacheSettings};

/// The URL of the test Redis.
pub(crate) fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Settings with a key and channel prefix no other test uses.
pub(crate) fn unique_config() -> RedisConfig {
    let id = uuid::Uuid::new_v4().simple().to_string();
    RedisConfig::new(redis_url())
        .with_pool_size(2)
        .with_key_prefix(format!("mastra-test:{id}:cache:"))
        .with_channel_prefix(format!("mastra-test:{id}:pubsub:"))
        .with_stream_ttl(std::time::Duration::from_secs(300))
}

/// Connects, or fails the test with a clear message.
pub(crate) async fn connect(config: RedisConfig) -> RedisConnection {
    RedisConnection::connect(config)
        .await
        .unwrap_or_else(|error| panic!("Redis must be running for these tests: {error}"))
}

/// An independent client (the `redis` crate) to inspect what the backends wrote.
pub(crate) async fn inspector() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis_url()).expect("redis url");
    client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis must be running for these tests")
}

/// Opens Redis backends with unique prefixes per `open`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RedisBackend;

#[async_trait]
impl BackendFactory for RedisBackend {
    fn name(&self) -> &str {
        "redis"
    }

    async fn open(&self, settings: CacheSettings) -> Backend {
        let config = unique_config()
            .with_default_ttl(settings.ttl)
            .with_live_capacity(256);
        open_with(config, settings).await
    }

    async fn reopen(&self, backend: &Backend) -> Backend {
        let prefix = format!("{:?}", backend.cache);
        let key_prefix = between(&prefix, "prefix: \"", "\"");
        let channel_prefix = key_prefix.replace(":cache:", ":pubsub:");
        let config = RedisConfig::new(redis_url())
            .with_pool_size(2)
            .with_key_prefix(key_prefix)
            .with_channel_prefix(channel_prefix)
            .with_default_ttl(backend.settings.ttl)
            .with_live_capacity(256);
        open_with(config, backend.settings).await
    }

    fn enforces_key_cap(&self) -> bool {
        false
    }
}

async fn open_with(config: RedisConfig, settings: CacheSettings) -> Backend {
    let connection = connect(config).await;
    let pubsub = RedisPubSub::new(connection.clone())
        .await
        .expect("subscriber connection");
    Backend {
        pubsub: Arc::new(pubsub),
        cache: Arc::new(RedisServerCache::new(connection)),
        settings,
    }
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).expect("prefix in Debug output") + start.len();
    let to = text[from..].find(end).expect("end of prefix") + from;
    text[from..to].to_owned()
}
