//! Two OS processes share one Redis: this test binary starts itself again as the
//! executor (process A), which publishes a run's events through its own `CachingPubSub`;
//! this process (B) observes the run from the middle and receives the rest exactly once,
//! through to `finish`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mastra_durable::{CachingPubSub, ObserveOptions};
use mastra_pubsub::{Event, EventType, PublishOptions};
use mastra_redis::{RedisConfig, RedisPubSub, RedisServerCache};
use serde_json::json;

const ROLE: &str = "MASTRA_REDIS_TEST_EXECUTOR";
const EVENTS: u64 = 200;

async fn caching(config: RedisConfig) -> CachingPubSub {
    let connection = support::connect(config).await;
    let pubsub = RedisPubSub::new(connection.clone()).await.unwrap();
    CachingPubSub::new(
        Arc::new(pubsub),
        Arc::new(RedisServerCache::new(connection)),
    )
}

fn config(key_prefix: &str, channel_prefix: &str) -> RedisConfig {
    RedisConfig::new(support::redis_url())
        .with_key_prefix(key_prefix)
        .with_channel_prefix(channel_prefix)
}

/// Process A: runs the "run" (publishes its events, paced, then `finish`).
async fn execute(spec: &str) {
    let mut parts = spec.split('|');
    let (key_prefix, channel_prefix, run) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let caching = caching(config(key_prefix, channel_prefix)).await;
    let topic = format!("agent.stream.{run}");
    for n in 0..EVENTS {
        let event = Event::new(EventType::Chunk, run, json!({ "n": n }));
        caching
            .publish_event(&topic, event, PublishOptions::default())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let finish = Event::new(EventType::Finish, run, json!({}));
    caching
        .publish_event(&topic, finish, PublishOptions::default())
        .await
        .unwrap();
    mastra_pubsub::PubSub::flush(caching.inner().as_ref())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_executed_in_one_process_is_observed_from_the_middle_in_another() {
    if let Ok(spec) = std::env::var(ROLE) {
        execute(&spec).await;
        return;
    }
    let shared = support::unique_config();
    let run = uuid::Uuid::new_v4().to_string();
    let spec = format!("{}|{}|{run}", shared.key_prefix, shared.channel_prefix);
    let executor = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_run_executed_in_one_process_is_observed_from_the_middle_in_another",
            "--test-threads=1",
            "--quiet",
        ])
        .env(ROLE, spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the executor process");

    let observer_side = caching(config(&shared.key_prefix, &shared.channel_prefix)).await;
    let topic = format!("agent.stream.{run}");
    let started = Instant::now();
    while observer_side.history_len(&topic).await.unwrap() < 50 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the executor never got going"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut observer = observer_side
        .observe(&topic, ObserveOptions::from_offset(50))
        .await
        .unwrap();
    let mut indices = Vec::new();
    let mut last_kind = None;
    while let Some(item) = tokio::time::timeout(Duration::from_secs(20), observer.next())
        .await
        .expect("the observer must not stall")
    {
        let event = item.unwrap();
        indices.push(event.index.unwrap());
        last_kind = Some(event.kind.clone());
    }
    let output = executor.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the executor process failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(indices, (50..=EVENTS).collect::<Vec<_>>());
    assert_eq!(last_kind, Some(EventType::Finish));
    mastra_pubsub::PubSub::clear_topic(observer_side.inner().as_ref(), &topic)
        .await
        .unwrap();
    observer_side.log().clear(&topic).await.unwrap();
}
