//! A log written over REST (`UpstashServerCache`, through the shim) is the log
//! `mastra-redis`'s `RedisServerCache` writes over TCP: the same keys, the same bytes, the
//! same counter and TTL, and each continues the other's. `clear` stays inside its prefix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use mastra_cache::{ServerCache, Ttl};
use mastra_durable::CachingPubSub;
use mastra_pubsub::{EventEmitterPubSub, EventType, PublishOptions};
use mastra_redis::{RedisConfig, RedisConnection, RedisServerCache};
use mastra_upstash::UpstashServerCache;
use redis::AsyncCommands;
use serde_json::json;
use support::Shim;

/// A REST cache and a TCP cache over the same Redis, with the same key prefix.
async fn pair(shim: &Shim) -> (UpstashServerCache, RedisServerCache) {
    let config = shim.config();
    let prefix = config.key_prefix.clone();
    let rest = UpstashServerCache::new(config).unwrap();
    let connection = RedisConnection::connect(
        RedisConfig::new(support::redis_url())
            .with_pool_size(1)
            .with_key_prefix(prefix),
    )
    .await
    .unwrap_or_else(|error| panic!("Redis must be running for these tests: {error}"));
    (rest, RedisServerCache::new(connection))
}

async fn pttl(redis: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query_async(redis)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_over_rest_is_read_identically_over_tcp() {
    let shim = Shim::start();
    let (rest, tcp) = pair(&shim).await;
    assert_eq!(rest.prefix(), tcp.prefix());

    // A run's events, written the way a durable run writes them (wire-contract §5).
    let caching = CachingPubSub::new(Arc::new(EventEmitterPubSub::new()), Arc::new(rest.clone()));
    let run = uuid::Uuid::new_v4().to_string();
    let topic = format!("agent.stream.{run}");
    for (n, kind) in [EventType::Chunk, EventType::Chunk, EventType::Finish]
        .into_iter()
        .enumerate()
    {
        let event = mastra_pubsub::Event::new(kind, run.as_str(), json!({ "n": n }));
        let index = caching
            .publish_event(&topic, event, PublishOptions::default())
            .await
            .unwrap();
        assert_eq!(index, Some(n as u64));
    }

    let key = format!("pubsub:{topic}");
    let over_rest = rest.list_range(&key, 0, None).await.unwrap();
    let over_tcp = tcp.list_range(&key, 0, None).await.unwrap();
    assert_eq!(over_rest, over_tcp);
    assert_eq!(tcp.list_len(&key).await.unwrap(), 3);
    for (index, entry) in over_tcp.iter().enumerate() {
        assert!(
            entry.starts_with(&format!("{{\"index\":{index},\"type\":")),
            "{entry}"
        );
    }

    // Upstream's layout, read with an independent client.
    let mut redis = support::inspector().await;
    let full = format!("{}{key}", rest.prefix());
    let raw: Vec<String> = redis.lrange(&full, 0, -1).await.unwrap();
    assert_eq!(raw, over_rest);
    let counter: u64 = redis.get(format!("{full}:counter")).await.unwrap();
    assert_eq!(counter, 3);
    for key in [full.clone(), format!("{full}:counter")] {
        let ttl = pttl(&mut redis, &key).await;
        assert!((299_000..=300_000).contains(&ttl), "{key}: PTTL {ttl}");
    }

    // The history a TCP reader replays is the run as written.
    let tcp_caching =
        CachingPubSub::new(Arc::new(EventEmitterPubSub::new()), Arc::new(tcp.clone()));
    let history = tcp_caching.history(&topic, 1).await.unwrap();
    let indices: Vec<_> = history.iter().map(|event| event.index).collect();
    assert_eq!(indices, vec![Some(1), Some(2)]);
    assert_eq!(history[1].kind, EventType::Finish);

    rest.clear().await.unwrap();
    assert_eq!(tcp.list_len(&key).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_writers_store_the_same_bytes_and_continue_each_others_logs() {
    let shim = Shim::start();
    let (rest, tcp) = pair(&shim).await;
    let entries = [
        r#"{"type":"chunk","runId":"r","data":{"text":"héllo \"quoted\" \\ {}"}}"#,
        "{}",
        r#"  {"type":"finish","data":{}}"#,
    ];
    for entry in entries {
        rest.append_indexed("via-rest", entry).await.unwrap();
        tcp.append_indexed("via-tcp", entry).await.unwrap();
    }
    let mut redis = support::inspector().await;
    let read = |key: &str| format!("{}{key}", rest.prefix());
    let via_rest: Vec<String> = redis.lrange(read("via-rest"), 0, -1).await.unwrap();
    let via_tcp: Vec<String> = redis.lrange(read("via-tcp"), 0, -1).await.unwrap();
    assert_eq!(via_rest, via_tcp, "byte-identical logs");
    assert_eq!(via_rest[1], r#"{"index":1}"#);
    let counters: Vec<Option<u64>> = redis
        .mget(&[read("via-rest:counter"), read("via-tcp:counter")])
        .await
        .unwrap();
    assert_eq!(counters, vec![Some(3), Some(3)]);

    // Each continues the log the other started.
    assert_eq!(tcp.append_indexed("via-rest", "{}").await.unwrap(), 3);
    assert_eq!(rest.append_indexed("via-tcp", "{}").await.unwrap(), 3);
    assert_eq!(
        rest.list_range("via-rest", 3, None).await.unwrap(),
        tcp.list_range("via-tcp", 3, None).await.unwrap()
    );

    // Values too: JSON strings, readable from both sides.
    rest.set("value", json!({"a": [1, 2]}), Ttl::Default)
        .await
        .unwrap();
    assert_eq!(tcp.get("value").await.unwrap(), Some(json!({"a": [1, 2]})));
    let raw: String = redis.get(read("value")).await.unwrap();
    assert_eq!(raw, r#"{"a":[1,2]}"#);
    assert!((299_000..=300_000).contains(&pttl(&mut redis, &read("value")).await));
    tcp.set("other", json!("x"), Ttl::Never).await.unwrap();
    assert_eq!(rest.get("other").await.unwrap(), Some(json!("x")));

    // A log deleted over REST goes with its counter.
    rest.delete("via-tcp").await.unwrap();
    let left: u64 = redis
        .exists(&[read("via-tcp"), read("via-tcp:counter")])
        .await
        .unwrap();
    assert_eq!(left, 0);
    rest.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_deletes_every_key_of_its_prefix_and_nothing_else() {
    let shim = Shim::start();
    let mine = UpstashServerCache::new(shim.config()).unwrap();
    let theirs = UpstashServerCache::new(shim.config()).unwrap();
    // A neighbour whose prefix ends in a glob character: unescaped, its `clear` would
    // match every key of `mine`.
    let stem = mine.prefix().trim_end_matches("ache:");
    let starred =
        UpstashServerCache::new(shim.config().with_key_prefix(format!("{stem}*"))).unwrap();

    // Enough keys for several SCAN pages (the pipelined delete-and-scan path).
    let mut redis = support::inspector().await;
    let mut pipe = redis::pipe();
    for n in 0..1_500 {
        pipe.cmd("SET")
            .arg(format!("{}k{n}", mine.prefix()))
            .arg("1")
            .arg("EX")
            .arg(300)
            .ignore();
    }
    pipe.query_async::<()>(&mut redis).await.unwrap();
    mine.append_indexed("log", "{}").await.unwrap();
    theirs.set("k", json!(2), Ttl::Default).await.unwrap();
    starred.set("k", json!(3), Ttl::Default).await.unwrap();
    let pattern = format!("{}*", mine.prefix());
    let count = |keys: Vec<String>| keys.len();

    starred.clear().await.unwrap();
    assert_eq!(starred.get("k").await.unwrap(), None);
    let kept: Vec<String> = redis.keys(&pattern).await.unwrap();
    assert_eq!(count(kept), 1_502, "the glob did not reach my keys");

    let before = shim.requests();
    mine.clear().await.unwrap();
    let requests = shim.requests() - before;
    let left: Vec<String> = redis.keys(&pattern).await.unwrap();
    assert!(left.is_empty(), "{} keys left", left.len());
    assert_eq!(theirs.get("k").await.unwrap(), Some(json!(2)));
    assert!(
        requests >= 2,
        "several pages took several requests ({requests})"
    );
    theirs.clear().await.unwrap();
}
