//! Behaviour of the in-process transport that is specific to it (the shared pubsub
//! contract is proven for every backend by the `mastra-test` conformance suite).

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers of a test file

use std::time::Duration;

use mastra_pubsub::{Delivery, Event, EventEmitterPubSub, LeaseProvider, PubSub, PublishOptions};
use serde_json::json;

fn event(n: u64) -> Event {
    Event::new("chunk", "r", json!({ "n": n })).with_index(n)
}

async fn publish(pubsub: &EventEmitterPubSub, topic: &str, n: u64) {
    pubsub
        .publish(topic, event(n), PublishOptions::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_slow_reader_is_told_how_many_events_it_missed() {
    let pubsub = EventEmitterPubSub::with_capacity(4);
    let mut slow = pubsub.subscribe("t").await.unwrap();
    for n in 0..10 {
        publish(&pubsub, "t", n).await;
    }
    assert_eq!(slow.next().await, Some(Delivery::Lagged { missed: 6 }));
    let mut rest = Vec::new();
    for _ in 0..4 {
        let delivery = slow.next().await.unwrap();
        rest.push(delivery.event().unwrap().index.unwrap());
    }
    assert_eq!(rest, vec![6, 7, 8, 9]);
}

#[tokio::test]
async fn dropping_subscriptions_frees_the_topic() {
    let pubsub = EventEmitterPubSub::new();
    let a = pubsub.subscribe("t").await.unwrap();
    let b = pubsub.subscribe("t").await.unwrap();
    let g = pubsub.subscribe_group("t", "workers").await.unwrap();
    assert_eq!(pubsub.subscriber_count("t"), 2);
    drop(a);
    assert_eq!(pubsub.subscriber_count("t"), 1);
    drop(b);
    assert_eq!(pubsub.topic_count(), 1, "the group still holds the topic");
    drop(g);
    assert_eq!(pubsub.topic_count(), 0);
    // Publishing to a topic nobody listens to retains nothing.
    publish(&pubsub, "t", 0).await;
    assert_eq!(pubsub.topic_count(), 0);
}

#[tokio::test]
async fn an_unsettled_group_message_is_redelivered_when_dropped() {
    let pubsub = EventEmitterPubSub::new();
    let mut member = pubsub.subscribe_group("t", "g").await.unwrap();
    publish(&pubsub, "t", 0).await;
    let first = member.next().await.unwrap();
    assert_eq!(first.event().delivery_attempt, Some(1));
    drop(first);
    let again = tokio::time::timeout(Duration::from_secs(1), member.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.event().delivery_attempt, Some(2));
    again.ack().await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(50), member.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn clear_topic_drops_pending_group_messages() {
    let pubsub = EventEmitterPubSub::new();
    let mut member = pubsub.subscribe_group("t", "g").await.unwrap();
    publish(&pubsub, "t", 0).await;
    pubsub.clear_topic("t").await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(50), member.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_transport_exposes_its_leases() {
    let pubsub = EventEmitterPubSub::new();
    let leases = pubsub.lease_provider().unwrap();
    let lease = leases
        .acquire("run", "me", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lease.owner, "me");
    assert_eq!(
        pubsub.leases().owner("run").await.unwrap().as_deref(),
        Some("me")
    );
}
