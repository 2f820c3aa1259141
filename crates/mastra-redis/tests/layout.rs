//! What the backends write, read back with an independent client (the `redis` crate):
//! upstream `@mastra/redis`'s key layout, `"index"` first, the counter, TTLs, scoped
//! `clear`, interoperability with a log another writer started, and a corrupt entry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use mastra_cache::ServerCache;
use mastra_durable::{CachingPubSub, DurableError, ObserveOptions};
use mastra_pubsub::{Event, EventType, PubSub, PublishOptions};
use mastra_redis::{RedisPubSub, RedisServerCache};
use redis::AsyncCommands;
use serde_json::json;

async fn caching(config: mastra_redis::RedisConfig) -> (CachingPubSub, RedisServerCache) {
    let connection = support::connect(config).await;
    let cache = RedisServerCache::new(connection.clone());
    let pubsub = RedisPubSub::new(connection).await.expect("pubsub");
    (
        CachingPubSub::new(Arc::new(pubsub), Arc::new(cache.clone())),
        cache,
    )
}

#[tokio::test]
async fn run_logs_use_upstreams_layout_with_index_first_and_a_counter() {
    let config = support::unique_config();
    let prefix = config.key_prefix.clone();
    let (caching, _cache) = caching(config).await;
    let run = uuid::Uuid::new_v4().to_string();
    let topic = format!("agent.stream.{run}");
    for n in 0..3 {
        let event = Event::new(EventType::Chunk, run.as_str(), json!({ "n": n }));
        caching
            .publish_event(&topic, event, PublishOptions::default())
            .await
            .expect("publish");
    }

    let mut redis = support::inspector().await;
    let key = format!("{prefix}pubsub:agent.stream.{run}");
    let entries: Vec<String> = redis.lrange(&key, 0, -1).await.unwrap();
    assert_eq!(entries.len(), 3);
    for (index, entry) in entries.iter().enumerate() {
        assert!(
            entry.starts_with(&format!(
                "{{\"index\":{index},\"type\":\"chunk\",\"runId\":"
            )),
            "{entry}"
        );
        let parsed: serde_json::Value = serde_json::from_str(entry).unwrap();
        assert_eq!(parsed["data"]["n"], index);
    }
    let counter: u64 = redis.get(format!("{key}:counter")).await.unwrap();
    assert_eq!(
        counter, 3,
        "the counter is the next index, as upstream's INCR gives"
    );
    for key in [key.clone(), format!("{key}:counter")] {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!((299_000..=300_000).contains(&ttl), "{key}: PTTL {ttl}");
    }
    caching.clear_topic(&topic).await.expect("clear");
    let exists: u64 = redis
        .exists(&[&key, &format!("{key}:counter")])
        .await
        .unwrap();
    assert_eq!(exists, 0, "clearing removes the log and its counter");
}

#[tokio::test]
async fn ttl_zero_leaves_keys_without_expiry_and_values_are_json_strings() {
    let config = support::unique_config().with_default_ttl(Duration::ZERO);
    let prefix = config.key_prefix.clone();
    let (_caching, cache) = caching(config).await;
    cache.append_indexed("log", "{}").await.unwrap();
    cache
        .set("value", json!({"a": [1, 2]}), mastra_cache::Ttl::Default)
        .await
        .unwrap();
    let mut redis = support::inspector().await;
    for key in ["log", "log:counter", "value"] {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(format!("{prefix}{key}"))
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(ttl, -1, "{key} never expires");
    }
    let raw: String = redis.get(format!("{prefix}value")).await.unwrap();
    assert_eq!(raw, r#"{"a":[1,2]}"#);
    let entries: Vec<String> = redis.lrange(format!("{prefix}log"), 0, -1).await.unwrap();
    assert_eq!(entries, vec![r#"{"index":0}"#.to_owned()]);
    cache.delete("log").await.unwrap();
    let left: u64 = redis
        .exists(&[format!("{prefix}log"), format!("{prefix}log:counter")])
        .await
        .unwrap();
    assert_eq!(left, 0, "deleting a log deletes its counter too");
    cache.clear().await.unwrap();
}

#[tokio::test]
async fn clear_deletes_only_keys_under_its_own_prefix() {
    let (_a, mine) = caching(support::unique_config()).await;
    let (_b, theirs) = caching(support::unique_config()).await;
    mine.set("k", json!(1), mastra_cache::Ttl::Default)
        .await
        .unwrap();
    theirs
        .set("k", json!(2), mastra_cache::Ttl::Default)
        .await
        .unwrap();
    for n in 0..1_200 {
        mine.append_indexed(&format!("log{n}"), "{}").await.unwrap();
    }
    mine.clear().await.unwrap();
    assert_eq!(mine.get("k").await.unwrap(), None);
    assert_eq!(
        mine.list_len("log1199").await.unwrap(),
        0,
        "SCAN went through every page"
    );
    assert_eq!(theirs.get("k").await.unwrap(), Some(json!(2)));
    theirs.clear().await.unwrap();
}

#[tokio::test]
async fn a_log_started_by_another_writer_is_read_and_continued() {
    let config = support::unique_config();
    let prefix = config.key_prefix.clone();
    let (caching, _cache) = caching(config).await;
    let run = uuid::Uuid::new_v4().to_string();
    let topic = format!("agent.stream.{run}");
    let key = format!("{prefix}pubsub:{topic}");
    // As upstream's Node writer leaves it: entries with "index" first, and the counter.
    let mut redis = support::inspector().await;
    for index in 0..2 {
        let entry = format!(
            r#"{{"index":{index},"type":"chunk","runId":"{run}","data":{{"n":{index}}},"id":"node-{index}","createdAt":"2026-11-29T16:00:00.000Z"}}"#
        );
        let _: () = redis.rpush(&key, entry).await.unwrap();
    }
    let _: () = redis.set(format!("{key}:counter"), 2).await.unwrap();

    let history = caching.history(&topic, 0).await.expect("history");
    assert_eq!(
        history.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["node-0", "node-1"]
    );
    let event = Event::new(EventType::Finish, run.as_str(), json!({}));
    let index = caching
        .publish_event(&topic, event, PublishOptions::default())
        .await
        .expect("publish");
    assert_eq!(index, Some(2));
    let counter: u64 = redis.get(format!("{key}:counter")).await.unwrap();
    assert_eq!(counter, 3);
    caching.clear_topic(&topic).await.unwrap();
}

#[tokio::test]
async fn a_corrupt_entry_ends_its_observer_with_a_clear_error() {
    let config = support::unique_config();
    let prefix = config.key_prefix.clone();
    let (caching, _cache) = caching(config).await;
    let run = uuid::Uuid::new_v4().to_string();
    let topic = format!("agent.stream.{run}");
    let event = Event::new(EventType::Chunk, run.as_str(), json!({}));
    caching
        .publish_event(&topic, event, PublishOptions::default())
        .await
        .unwrap();
    let mut redis = support::inspector().await;
    let _: () = redis
        .rpush(
            format!("{prefix}pubsub:{topic}"),
            r#"{"index":1,"type":"chunk","oops"#,
        )
        .await
        .unwrap();

    let observed = tokio::time::timeout(Duration::from_secs(5), async {
        let mut observer = caching.observe(&topic, ObserveOptions::default()).await?;
        let mut seen = Vec::new();
        while let Some(item) = observer.next().await {
            seen.push(item?.index);
        }
        Ok::<_, DurableError>(seen)
    })
    .await
    .expect("the observer must not hang");
    match observed {
        Err(DurableError::CorruptLog { position, .. }) => assert_eq!(position, 1),
        other => panic!("expected a corrupt-log error, got {other:?}"),
    }
    caching.clear_topic(&topic).await.unwrap();
}
