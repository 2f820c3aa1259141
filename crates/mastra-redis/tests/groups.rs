//! Consumer groups across two transports (two processes sharing Redis): competing
//! members, a dead consumer's pending message taken over after the claim timeout, and
//! idle members costing one read per message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use mastra_pubsub::{Event, EventType, PubSub, PublishOptions};
use mastra_redis::RedisPubSub;
use serde_json::json;

async fn transport(prefix_from: &mastra_redis::RedisConfig) -> RedisPubSub {
    let config = support::unique_config()
        .with_channel_prefix(prefix_from.channel_prefix.clone())
        .with_claim_timeout(Duration::from_millis(300));
    RedisPubSub::new(support::connect(config).await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_consumers_message_is_redelivered_to_another_member() {
    let shared = support::unique_config();
    let (a, b) = (transport(&shared).await, transport(&shared).await);
    let topic = "workflows";
    let mut dying = a.subscribe_group(topic, "workers").await.unwrap();
    let event = Event::new(
        EventType::Other("workflow.step.run".into()),
        "run",
        json!({}),
    );
    a.publish(topic, event.clone(), PublishOptions::default())
        .await
        .unwrap();
    let taken = tokio::time::timeout(Duration::from_secs(5), dying.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.event().delivery_attempt, Some(1));
    // The process dies: nothing is acked, nacked or released.
    std::mem::forget(taken);
    std::mem::forget(dying);
    drop(a);

    let mut survivor = b.subscribe_group(topic, "workers").await.unwrap();
    let redelivered = tokio::time::timeout(Duration::from_secs(5), survivor.next())
        .await
        .expect("reclaimed after the claim timeout")
        .unwrap();
    assert_eq!(redelivered.event().id, event.id);
    assert_eq!(redelivered.event().delivery_attempt, Some(2));
    redelivered.ack().await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(1_500), survivor.next())
            .await
            .is_err(),
        "acked: gone"
    );
    b.clear_topic(topic).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_in_two_processes_share_a_group_and_local_only_stays_local() {
    let shared = support::unique_config();
    let (a, b) = (transport(&shared).await, transport(&shared).await);
    let topic = "agent.control.run-x";
    let mut member_a = a.subscribe_group(topic, "g").await.unwrap();
    let mut member_b = b.subscribe_group(topic, "g").await.unwrap();
    let mut fan_b = b.subscribe(topic).await.unwrap();
    let mut redis = support::inspector().await;
    let stream_ttl: i64 = redis::cmd("PTTL")
        .arg(a.stream_key(topic))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(
        (1..=300_000).contains(&stream_ttl),
        "group streams expire when idle: PTTL {stream_ttl}"
    );
    for n in 0..20 {
        let event = Event::new(EventType::Chunk, "run-x", json!({ "n": n })).with_index(n);
        a.publish(topic, event, PublishOptions::default())
            .await
            .unwrap();
    }
    let local = Event::new(EventType::Chunk, "run-x", json!({ "local": true }));
    a.publish(topic, local, PublishOptions::local_only())
        .await
        .unwrap();

    let mut got = Vec::new();
    for member in [&mut member_a, &mut member_b] {
        while let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_millis(1_200), member.next()).await
        {
            got.push(message.event().index.unwrap());
            message.ack().await.unwrap();
        }
    }
    got.sort_unstable();
    assert_eq!(
        got,
        (0..20).collect::<Vec<_>>(),
        "each event once across both processes"
    );
    for n in 0..20 {
        match fan_b.next().await {
            Some(mastra_pubsub::Delivery::Event(event)) => assert_eq!(event.index, Some(n)),
            other => panic!("expected event {n}, got {other:?}"),
        }
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(300), fan_b.next())
            .await
            .is_err(),
        "a local-only event never reaches another process"
    );
    a.clear_topic(topic).await.unwrap();
}

/// Idle members wait in a blocking read, so Redis hands each new message to one of them:
/// one `XREADGROUP` per message however many members are idle (a wake-up to every idle
/// member made each of them read), and no message is lost or taken twice, while a dead
/// consumer's pending message is still reclaimed by a live member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_members_cost_one_read_per_message_and_lose_none() {
    const MESSAGES: usize = 30;
    const MEMBERS: usize = 4;
    let shared = support::unique_config();
    let (a, b) = (transport(&shared).await, transport(&shared).await);
    let topic = "workflows";
    let stream = a.stream_key(topic);
    let step = |n: usize| {
        Event::new(
            EventType::Other("workflow.step.run".into()),
            "run",
            json!({ "n": n }),
        )
    };

    // A consumer takes message 0 and dies with it.
    let mut dying = a.subscribe_group(topic, "workers").await.unwrap();
    a.publish(topic, step(0), PublishOptions::default())
        .await
        .unwrap();
    let taken = tokio::time::timeout(Duration::from_secs(5), dying.next())
        .await
        .unwrap()
        .unwrap();
    std::mem::forget(taken);
    std::mem::forget(dying);

    let reads = Arc::new(AtomicUsize::new(0));
    let monitor = {
        let client = redis::Client::open(support::redis_url()).unwrap();
        let mut monitor = client.get_async_monitor().await.unwrap();
        let (reads, stream) = (reads.clone(), stream.clone());
        tokio::spawn(async move {
            let mut lines = monitor.on_message::<String>();
            while let Some(line) = lines.next().await {
                if line.contains("\"XREADGROUP\"") && line.contains(&stream) {
                    reads.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    let (got, done) = tokio::sync::mpsc::unbounded_channel();
    let mut members = Vec::new();
    for n in 0..MEMBERS {
        let transport = if n % 2 == 0 { &a } else { &b };
        let mut member = transport.subscribe_group(topic, "workers").await.unwrap();
        let got = got.clone();
        members.push(tokio::spawn(async move {
            while let Some(message) = member.next().await {
                let event = message.event();
                let _ = got.send((event.data["n"].as_u64().unwrap(), event.delivery_attempt));
                message.ack().await.unwrap();
            }
        }));
    }
    // Every member is idle in its read before the messages come, one at a time.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = reads.load(Ordering::SeqCst);
    for n in 1..=MESSAGES {
        a.publish(topic, step(n), PublishOptions::default())
            .await
            .unwrap();
        a.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut done = done;
    let mut seen = std::collections::BTreeMap::new();
    while seen.len() < MESSAGES + 1 {
        let (n, attempt) = tokio::time::timeout(Duration::from_secs(5), done.recv())
            .await
            .expect("every message, the dead consumer's included")
            .unwrap();
        assert!(seen.insert(n, attempt).is_none(), "message {n} taken twice");
    }
    let published_reads = reads.load(Ordering::SeqCst) - before;
    assert_eq!(seen.len(), MESSAGES + 1);
    assert_eq!(
        seen[&0],
        Some(2),
        "the dead consumer's message, redelivered"
    );
    // One read per message, plus the reads that time out (one per member per second);
    // waking every idle member made each of them read: about MEMBERS per message.
    assert!(
        published_reads < 2 * MESSAGES,
        "{published_reads} reads for {MESSAGES} messages and {MEMBERS} idle members"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(1_200), done.recv())
            .await
            .is_err(),
        "nothing more"
    );
    for member in members {
        member.abort();
    }
    monitor.abort();
    a.clear_topic(topic).await.unwrap();
}
