//! Small helpers shared by the conformance scenarios.

use std::sync::Arc;
use std::time::Duration;

use mastra_durable::{CachingPubSub, ReplaySubscription};
use mastra_pubsub::{Delivery, Event, EventType, PublishOptions, Subscription};
use serde_json::json;

/// How long a scenario waits for something that must happen.
pub const PATIENCE: Duration = Duration::from_secs(10);
/// How long a scenario watches for something that must not happen.
pub const QUIET: Duration = Duration::from_millis(150);

/// A topic name no other test (or process sharing the backend) uses.
pub fn unique_topic(prefix: &str) -> String {
    format!("{prefix}conformance-{}", uuid::Uuid::new_v4())
}

/// A `chunk` event numbered `n` in its data.
pub fn chunk(n: u64) -> Event {
    Event::new(EventType::Chunk, "conformance", json!({ "n": n }))
}

/// An event of the given type.
pub fn event_of(kind: EventType) -> Event {
    Event::new(kind, "conformance", json!({}))
}

/// Publishes `count` chunks through `caching`, returning their indices.
pub async fn publish_chunks(caching: &CachingPubSub, topic: &str, count: u64) -> Vec<u64> {
    let mut indices = Vec::new();
    for n in 0..count {
        let index = caching
            .publish_event(topic, chunk(n), PublishOptions::default())
            .await
            .expect("publish failed");
        indices.push(index.expect("a cached topic gives an index"));
    }
    indices
}

/// The next event of an observer, failing the test after [`PATIENCE`].
pub async fn next_event(observer: &mut ReplaySubscription) -> Option<Arc<Event>> {
    let item = tokio::time::timeout(PATIENCE, observer.next())
        .await
        .unwrap_or_else(|_| panic!("no event on {} within {PATIENCE:?}", observer.topic()));
    item.map(|outcome| outcome.expect("observer failed"))
}

/// The next `count` indices of an observer.
pub async fn take_indices(observer: &mut ReplaySubscription, count: usize) -> Vec<u64> {
    let mut indices = Vec::with_capacity(count);
    for _ in 0..count {
        let event = next_event(observer).await.expect("observer ended early");
        indices.push(event.index.expect("a logged event has an index"));
    }
    indices
}

/// Every remaining index of an observer, up to its end.
pub async fn indices_to_end(observer: &mut ReplaySubscription) -> Vec<u64> {
    let mut indices = Vec::new();
    while let Some(event) = next_event(observer).await {
        indices.push(event.index.expect("a logged event has an index"));
    }
    indices
}

/// Asserts that an observer delivers nothing for [`QUIET`].
pub async fn assert_quiet(observer: &mut ReplaySubscription) {
    if let Ok(item) = tokio::time::timeout(QUIET, observer.next()).await {
        panic!(
            "expected nothing more on {}, got {item:?}",
            observer.topic()
        );
    }
}

/// The next event of a plain subscription (lag reports are a failure here).
pub async fn next_live(subscription: &mut Subscription) -> Arc<Event> {
    let delivery = tokio::time::timeout(PATIENCE, subscription.next())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no delivery on {} within {PATIENCE:?}",
                subscription.topic()
            )
        });
    match delivery {
        Some(Delivery::Event(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Asserts that a plain subscription receives nothing for [`QUIET`].
pub async fn assert_live_quiet(subscription: &mut Subscription) {
    if let Ok(delivery) = tokio::time::timeout(QUIET, subscription.next()).await {
        panic!(
            "expected nothing on {}, got {delivery:?}",
            subscription.topic()
        );
    }
}

/// `0..n` as indices.
pub fn range(from: u64, to: u64) -> Vec<u64> {
    (from..to).collect()
}
