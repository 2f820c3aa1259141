//! Consumer groups across two transports (two processes sharing Redis): competing
//! members, and a dead consumer's pending message taken over after the claim timeout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

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
