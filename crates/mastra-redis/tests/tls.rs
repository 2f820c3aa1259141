//! `rediss://`: a private TLS-only `redis-server` (`mastra_test::tls`, certificates made
//! with the `openssl` CLI) and the test CA trusted through `SSL_CERT_FILE` (read by the
//! system-roots loader). The cache and the pubsub work over TLS like over TCP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mastra_cache::ServerCache;
use mastra_durable::CachingPubSub;
use mastra_pubsub::{Event, EventType, PublishOptions};
use mastra_redis::{RedisConfig, RedisConnection, RedisPubSub, RedisServerCache};
use mastra_test::tls::TlsRedis;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_and_pubsub_work_over_tls() {
    let server = TlsRedis::start();
    // Only this test binary's process sees the variable.
    std::env::set_var("SSL_CERT_FILE", server.ca_file());
    let config = RedisConfig::new(format!("rediss://localhost:{}", server.port()));
    assert!(config.uses_tls());
    let connection = RedisConnection::connect(config)
        .await
        .unwrap_or_else(|error| panic!("TLS connection failed: {error}"));
    let cache = Arc::new(RedisServerCache::new(connection.clone()));
    let pubsub = Arc::new(RedisPubSub::new(connection).await.unwrap());
    let caching = CachingPubSub::new(pubsub, cache.clone());

    let mut observer = caching
        .subscribe_with_replay("agent.stream.tls")
        .await
        .unwrap();
    for kind in [EventType::Chunk, EventType::Finish] {
        let event = Event::new(kind, "tls", json!({}));
        caching
            .publish_event("agent.stream.tls", event, PublishOptions::default())
            .await
            .unwrap();
    }
    let mut indices = Vec::new();
    while let Some(item) = tokio::time::timeout(Duration::from_secs(5), observer.next())
        .await
        .expect("events over TLS")
    {
        indices.push(item.unwrap().index.unwrap());
    }
    assert_eq!(indices, vec![0, 1]);
    assert_eq!(cache.list_len("pubsub:agent.stream.tls").await.unwrap(), 2);
}

#[tokio::test]
async fn a_plain_connection_to_the_tls_port_fails_clearly() {
    let server = TlsRedis::start();
    let config = RedisConfig::new(format!("redis://127.0.0.1:{}", server.port()))
        .with_connect_timeout(Duration::from_secs(2));
    let started = Instant::now();
    let outcome = RedisConnection::connect(config).await;
    assert!(outcome.is_err(), "plain TCP must not talk to a TLS port");
    assert!(started.elapsed() < Duration::from_secs(5));
}
