//! The `PubSub` contract itself: fan-out, consumer groups, ack/nack, unsubscribe on drop,
//! leases.

use std::time::Duration;

use mastra_pubsub::{GroupSubscription, PubSub, PublishOptions};

use crate::support::{assert_live_quiet, chunk, next_live, unique_topic, PATIENCE, QUIET};
use crate::{BackendFactory, CacheSettings};

async fn publish(pubsub: &dyn PubSub, topic: &str, count: u64) {
    for n in 0..count {
        pubsub
            .publish(topic, chunk(n).with_index(n), PublishOptions::default())
            .await
            .expect("publish");
    }
    pubsub.flush().await.expect("flush");
}

/// Fan-out: every subscriber gets every event, with its index and id preserved.
pub async fn fan_out_reaches_every_subscriber(factory: &dyn BackendFactory) {
    let pubsub = factory.open(CacheSettings::default()).await.pubsub;
    let topic = unique_topic("fanout.");
    let mut first = pubsub.subscribe(&topic).await.expect("subscribe");
    let mut second = pubsub.subscribe(&topic).await.expect("subscribe");
    let event = chunk(7).with_index(7);
    pubsub
        .publish(&topic, event.clone(), PublishOptions::default())
        .await
        .expect("publish");
    for subscriber in [&mut first, &mut second] {
        let received = next_live(subscriber).await;
        assert_eq!(
            (received.index, &received.id, &received.data),
            (Some(7), &event.id, &event.data)
        );
    }
    // Local-only events reach local subscribers too.
    pubsub
        .publish(&topic, chunk(8), PublishOptions::local_only())
        .await
        .expect("publish");
    assert_eq!(next_live(&mut first).await.data["n"], 8);
}

async fn drain_group(member: &mut GroupSubscription, into: &mut Vec<u64>) {
    while let Ok(Some(message)) = tokio::time::timeout(QUIET, member.next()).await {
        into.push(message.event().index.expect("indexed"));
        message.ack().await.expect("ack");
    }
}

/// Members of one group compete (one delivery per group); every group gets everything.
pub async fn groups_get_one_delivery_each(factory: &dyn BackendFactory) {
    let pubsub = factory.open(CacheSettings::default()).await.pubsub;
    let topic = unique_topic("group.");
    let mut a1 = pubsub.subscribe_group(&topic, "a").await.expect("join");
    let mut a2 = pubsub.subscribe_group(&topic, "a").await.expect("join");
    let mut b = pubsub.subscribe_group(&topic, "b").await.expect("join");
    publish(pubsub.as_ref(), &topic, 20).await;
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    // Read from both members of `a` concurrently so that either may take any message.
    let (mut from_a1, mut from_a2) = (Vec::new(), Vec::new());
    tokio::join!(
        drain_group(&mut a1, &mut from_a1),
        drain_group(&mut a2, &mut from_a2)
    );
    got_a.extend(from_a1);
    got_a.extend(from_a2);
    drain_group(&mut b, &mut got_b).await;
    got_a.sort_unstable();
    assert_eq!(
        got_a,
        (0..20).collect::<Vec<_>>(),
        "group a: each event exactly once"
    );
    assert_eq!(
        got_b,
        (0..20).collect::<Vec<_>>(),
        "group b: everything, in order"
    );
}

/// A nacked message comes back with `deliveryAttempt + 1`; an acked one does not.
pub async fn nack_redelivers_with_the_next_attempt(factory: &dyn BackendFactory) {
    let pubsub = factory.open(CacheSettings::default()).await.pubsub;
    let topic = unique_topic("nack.");
    let mut member = pubsub
        .subscribe_group(&topic, "workers")
        .await
        .expect("join");
    publish(pubsub.as_ref(), &topic, 1).await;
    let mut attempts = Vec::new();
    for _ in 0..3 {
        let message = tokio::time::timeout(PATIENCE, member.next())
            .await
            .expect("redelivery")
            .expect("open");
        attempts.push(message.event().delivery_attempt);
        if attempts.len() < 3 {
            message.nack().await.expect("nack");
        } else {
            message.ack().await.expect("ack");
        }
    }
    assert_eq!(attempts, vec![Some(1), Some(2), Some(3)]);
    assert!(
        tokio::time::timeout(QUIET, member.next()).await.is_err(),
        "acked: not redelivered"
    );
}

/// Dropping a subscription unsubscribes: a dropped group member takes no more messages,
/// and a dropped subscriber leaves the others unaffected.
pub async fn dropping_a_subscription_unsubscribes(factory: &dyn BackendFactory) {
    let pubsub = factory.open(CacheSettings::default()).await.pubsub;
    let topic = unique_topic("drop.");
    let leaving = pubsub.subscribe_group(&topic, "g").await.expect("join");
    let mut staying = pubsub.subscribe_group(&topic, "g").await.expect("join");
    let dropped = pubsub.subscribe(&topic).await.expect("subscribe");
    let mut kept = pubsub.subscribe(&topic).await.expect("subscribe");
    drop(leaving);
    drop(dropped);
    publish(pubsub.as_ref(), &topic, 10).await;
    let mut got = Vec::new();
    drain_group(&mut staying, &mut got).await;
    assert_eq!(
        got,
        (0..10).collect::<Vec<_>>(),
        "the remaining member gets everything"
    );
    for expected in 0..10 {
        assert_eq!(next_live(&mut kept).await.index, Some(expected));
    }
    assert_live_quiet(&mut kept).await;
    pubsub.clear_topic(&topic).await.expect("clear");
}

/// Leases: one owner at a time, renew, release, expiry, rising generations.
pub async fn leases_give_one_owner_at_a_time(factory: &dyn BackendFactory) {
    let pubsub = factory.open(CacheSettings::default()).await.pubsub;
    let leases = pubsub
        .lease_provider()
        .expect("the transport provides leases");
    let key = unique_topic("lease.");
    let ttl = Duration::from_millis(400);
    let first = leases
        .acquire(&key, "a", ttl)
        .await
        .expect("acquire")
        .expect("free");
    assert!(leases
        .acquire(&key, "b", ttl)
        .await
        .expect("acquire")
        .is_none());
    assert_eq!(
        leases.owner(&key).await.expect("owner").as_deref(),
        Some("a")
    );
    assert!(leases.renew(&key, "a", ttl).await.expect("renew"));
    assert!(!leases.renew(&key, "b", ttl).await.expect("renew"));
    assert!(!leases.release(&key, "b").await.expect("release"));
    assert!(leases.release(&key, "a").await.expect("release"));
    assert_eq!(leases.owner(&key).await.expect("owner"), None);

    let second = leases
        .acquire(&key, "b", ttl)
        .await
        .expect("acquire")
        .expect("free");
    assert!(
        second.generation > first.generation,
        "a new claim raises the generation"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(leases.owner(&key).await.expect("owner"), None, "expired");
    let third = leases
        .acquire(&key, "a", ttl)
        .await
        .expect("acquire")
        .expect("expired lease is free");
    assert!(third.generation > second.generation);
    leases.release(&key, "a").await.expect("release");
}
