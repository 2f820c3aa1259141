//! `RedisRunStore` against the real Redis: the `RunStore` conformance suite (racing takes
//! on separate connection pools included), its key layout, and a paused durable run that
//! outlives the `Mastra` instance that paused it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use mastra_core::{demo, Agent, StreamOptions};
use mastra_durable::{create_durable_agent, Mastra, RunStatus, RunStore};
use mastra_pubsub::EventType;
use mastra_redis::{RedisConfig, RedisPubSub, RedisRunStore, RedisServerCache};
use mastra_test::stores::run::record;
use mastra_test::RunStoreFactory;
use redis::AsyncCommands;
use support::{connect, inspector, unique_config};

const WAIT: Duration = Duration::from_secs(20);

/// Each `open` makes a fresh key prefix; each handle has its own connection pool.
#[derive(Debug, Default)]
struct RedisRunStores {
    prefixes: std::sync::Mutex<Vec<String>>,
}

#[async_trait]
impl RunStoreFactory for RedisRunStores {
    async fn open(&self, handles: usize) -> Vec<Arc<dyn RunStore>> {
        let config = unique_config();
        self.prefixes
            .lock()
            .unwrap()
            .push(config.key_prefix.clone());
        let mut stores: Vec<Arc<dyn RunStore>> = Vec::new();
        for _ in 0..handles.max(1) {
            stores.push(Arc::new(RedisRunStore::new(connect(config.clone()).await)));
        }
        stores
    }

    /// The scenarios delete every run; only take receipts (60 s TTL) may be left.
    async fn close(&self) {
        let prefixes = std::mem::take(&mut *self.prefixes.lock().unwrap());
        for prefix in prefixes {
            let left = keys_under(&prefix).await;
            let receipt = format!("{prefix}run-state:taken:");
            assert!(left.iter().all(|key| key.starts_with(&receipt)), "{left:?}");
            delete_under(&prefix).await;
        }
    }
}

mod conformance {
    mastra_test::run_store_suite!(super::RedisRunStores::default());
}

async fn keys_under(prefix: &str) -> Vec<String> {
    let mut redis = inspector().await;
    let mut keys: Vec<String> = redis.keys(format!("{prefix}*")).await.unwrap();
    keys.sort();
    keys
}

async fn delete_under(prefix: &str) {
    let keys = keys_under(prefix).await;
    if !keys.is_empty() {
        let _: () = inspector().await.del(keys).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_live_where_documented() {
    let store = RedisRunStore::new(connect(unique_config()).await);
    let prefix = store.prefix().to_owned();
    assert!(prefix.ends_with(":cache:run-state:"), "{prefix}");
    let paused = record("run-1", RunStatus::Suspended);
    store.save(&paused).await.unwrap();

    let mut redis = inspector().await;
    let key = store.run_key("run-1");
    assert_eq!(key, format!("{prefix}run:run-1"));
    assert_eq!(keys_under(&prefix).await, [key.clone(), store.index_key()]);
    let text: String = redis.get(&key).await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["state"]["runId"], "run-1");
    assert_eq!(json["status"], "suspended");
    assert_eq!(json["suspensions"][0]["toolCallId"], "call-1");
    let ttl: i64 = redis.ttl(&key).await.unwrap();
    assert_eq!(ttl, -1, "paused runs never expire");

    // A take leaves only its short-lived receipt behind.
    assert_eq!(store.take("run-1").await.unwrap(), Some(paused));
    let left = keys_under(&prefix).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(&format!("{prefix}taken:run-1:")));
    let ttl: i64 = redis.pttl(&left[0]).await.unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
    delete_under(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_records_give_clear_errors() {
    let store = RedisRunStore::new(connect(unique_config()).await);
    let mut redis = inspector().await;
    let _: () = redis.set(store.run_key("bad"), "{oops").await.unwrap();
    let _: () = redis.sadd(store.index_key(), "bad").await.unwrap();
    let error = store.load("bad").await.unwrap_err();
    assert!(error.to_string().contains("encoding"), "{error}");
    assert!(!error.is_retryable());
    let _: () = redis.del(store.run_key("bad")).await.unwrap();
    let _: () = redis.sadd(store.run_key("bad"), "x").await.unwrap();
    let error = store.load("bad").await.unwrap_err();
    assert!(error.to_string().contains("WRONGTYPE"), "{error}");
    store.delete("bad").await.unwrap();
    assert!(keys_under(store.prefix()).await.is_empty());
}

/// Instance A (Redis transport, cache and run store) pauses a run for an approval and goes
/// away; instance B, with its own connections to the same Redis, approves it and the run
/// finishes, with one contiguous log and one `finish`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_run_is_approved_from_another_instance_after_the_first_is_gone() {
    let config = unique_config();
    let run_id = {
        let a = instance(&config).await;
        let durable = a.durable_agent("calc").unwrap();
        let mut options = StreamOptions::new();
        options.require_tool_approval = true;
        let stream = durable.stream("calculate 6*7", options).await.unwrap();
        let run_id = stream.run_id().to_owned();
        let mut events = durable.observe(&run_id, 0).await.unwrap();
        let suspended = tokio::time::timeout(WAIT, async {
            loop {
                let event = events.next().await.unwrap().unwrap();
                if event.kind == EventType::Suspended {
                    return event;
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(suspended.data["toolName"], "calculator");
        assert_eq!(
            durable.run_status(&run_id).await.unwrap(),
            Some(RunStatus::Suspended)
        );
        drop(stream);
        run_id
        // A, its agent, its executor task and its connections go away here.
    };
    tokio::time::sleep(Duration::from_millis(100)).await;

    let b = instance(&config).await;
    let durable = b.durable_agent("calc").unwrap();
    let paused = b.run_store().load(&run_id).await.unwrap().unwrap();
    assert_eq!(paused.status, RunStatus::Suspended);
    let call = paused.suspensions[0].tool_call_id.clone();
    let output = tokio::time::timeout(WAIT, async {
        durable
            .approve_tool_call(&run_id, &call)
            .await
            .unwrap()
            .output()
            .await
    })
    .await
    .unwrap()
    .unwrap();
    assert!(output.text.contains("42"), "{}", output.text);
    assert_eq!(b.run_store().load(&run_id).await.unwrap(), None);

    // The whole run, as any instance replays it: contiguous, one terminal event.
    let log: Vec<_> = durable
        .observe(&run_id, 0)
        .await
        .unwrap()
        .map(|event| event.unwrap())
        .collect()
        .await;
    for (position, event) in log.iter().enumerate() {
        assert_eq!(event.index, Some(position as u64));
    }
    let kinds: Vec<_> = log.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == EventType::Finish).count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == EventType::Suspended).count(),
        1
    );
    durable.cleanup(&run_id).await.unwrap();
    delete_under(&config.key_prefix).await;
    delete_under(&config.channel_prefix).await;
}

/// One `Mastra` with every backend in Redis and the demo agent as `calc`.
async fn instance(config: &RedisConfig) -> Mastra {
    let connection = connect(config.clone()).await;
    let agent = Agent::builder("calc", demo::DemoModel::new())
        .tools(demo::demo_tools())
        .build();
    Mastra::builder()
        .pubsub(Arc::new(
            RedisPubSub::new(connection.clone()).await.unwrap(),
        ))
        .cache(Arc::new(RedisServerCache::new(connection.clone())))
        .run_store(Arc::new(RedisRunStore::new(connection)))
        .durable_agent(create_durable_agent(agent))
        .build()
        .unwrap()
}
