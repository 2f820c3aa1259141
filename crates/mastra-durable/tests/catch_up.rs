//! The observer's catch-up paths, driven by a scripted transport whose live deliveries the
//! test controls: skipped indices, lag reports, reconnects, a closed transport, lost logs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers of a test file

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use mastra_cache::{CacheError, InMemoryServerCache, ServerCache, Ttl};
use mastra_durable::{CachingPubSub, DurableError, ObserveOptions, ReplaySubscription};
use mastra_pubsub::{
    Delivery, Event, GroupSubscription, PubSub, PubSubError, PublishOptions, Subscription,
};
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// A transport that delivers nothing by itself: the test decides what subscribers see.
#[derive(Debug, Default)]
struct Scripted {
    feeds: Mutex<Vec<mpsc::UnboundedSender<Delivery>>>,
}

impl Scripted {
    fn send(&self, delivery: Delivery) {
        for feed in self.feeds.lock().unwrap().iter() {
            let _ = feed.send(delivery.clone());
        }
    }

    fn close(&self) {
        self.feeds.lock().unwrap().clear();
    }
}

#[async_trait]
impl PubSub for Scripted {
    async fn publish(&self, _: &str, _: Event, _: PublishOptions) -> Result<(), PubSubError> {
        Ok(())
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, PubSubError> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.feeds.lock().unwrap().push(tx);
        let stream =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|d| (d, rx)) });
        Ok(Subscription::new(topic, stream))
    }

    async fn subscribe_group(&self, _: &str, _: &str) -> Result<GroupSubscription, PubSubError> {
        Err(PubSubError::Unavailable("not scripted".into()))
    }

    async fn flush(&self) -> Result<(), PubSubError> {
        Ok(())
    }

    async fn clear_topic(&self, _: &str) -> Result<(), PubSubError> {
        Ok(())
    }
}

const TOPIC: &str = "agent.stream.r";

fn setup() -> (Arc<Scripted>, CachingPubSub) {
    let scripted = Arc::new(Scripted::default());
    let caching = CachingPubSub::new(scripted.clone(), Arc::new(InMemoryServerCache::new()));
    (scripted, caching)
}

fn chunk(n: u64) -> Event {
    Event::new("chunk", "r", json!({ "n": n }))
}

/// Logs `count` events (the scripted transport does not deliver them live).
async fn log_events(caching: &CachingPubSub, count: u64) -> Vec<Event> {
    let mut logged = Vec::new();
    for n in 0..count {
        let event = chunk(n);
        let index = caching
            .publish_event(TOPIC, event.clone(), PublishOptions::default())
            .await
            .unwrap();
        logged.push(event.with_index(index.unwrap()));
    }
    logged
}

async fn next_index(observer: &mut ReplaySubscription) -> Option<u64> {
    let event = tokio::time::timeout(Duration::from_secs(5), observer.next())
        .await
        .unwrap()?;
    Some(event.unwrap().index.unwrap())
}

#[tokio::test]
async fn a_live_event_that_skips_ahead_is_filled_from_the_log() {
    let (scripted, caching) = setup();
    let mut observer = caching.subscribe_with_replay(TOPIC).await.unwrap();
    let logged = log_events(&caching, 4).await;
    scripted.send(Delivery::Event(Arc::new(logged[3].clone())));
    scripted.send(Delivery::Event(Arc::new(logged[3].clone())));
    for expected in 0..4 {
        assert_eq!(next_index(&mut observer).await, Some(expected));
    }
    assert_eq!(observer.catch_up_count(), 1);
    // The live copy of 3 that follows is a duplicate and is dropped.
    log_events(&caching, 1).await;
    scripted.send(Delivery::Event(Arc::new(chunk(9).with_index(4))));
    assert_eq!(next_index(&mut observer).await, Some(4));
}

#[tokio::test]
async fn a_lag_report_or_a_reconnect_triggers_a_catch_up() {
    for report in [Delivery::Lagged { missed: 2 }, Delivery::Reconnected] {
        let (scripted, caching) = setup();
        log_events(&caching, 2).await;
        let mut observer = caching.subscribe_with_replay(TOPIC).await.unwrap();
        assert_eq!(next_index(&mut observer).await, Some(0));
        assert_eq!(next_index(&mut observer).await, Some(1));
        log_events(&caching, 2).await;
        scripted.send(report.clone());
        assert_eq!(next_index(&mut observer).await, Some(2), "{report:?}");
        assert_eq!(next_index(&mut observer).await, Some(3), "{report:?}");
        assert_eq!(observer.catch_up_count(), 1);
    }
}

#[tokio::test]
async fn a_closed_transport_still_delivers_what_reached_the_log() {
    let (scripted, caching) = setup();
    let mut observer = caching.subscribe_with_replay(TOPIC).await.unwrap();
    log_events(&caching, 2).await;
    scripted.close();
    assert_eq!(next_index(&mut observer).await, Some(0));
    assert_eq!(next_index(&mut observer).await, Some(1));
    assert_eq!(next_index(&mut observer).await, None);
}

#[tokio::test]
async fn events_missing_from_the_log_are_an_explicit_gap() {
    let (scripted, caching) = setup();
    let mut observer = caching.subscribe_with_replay(TOPIC).await.unwrap();
    scripted.send(Delivery::Event(Arc::new(chunk(5).with_index(5))));
    let outcome = observer.next().await.unwrap();
    assert!(
        matches!(
            outcome,
            Err(DurableError::Gap {
                expected: 0,
                found: 5,
                ..
            })
        ),
        "{outcome:?}"
    );
    assert!(observer.next().await.is_none(), "a gap ends the observer");
}

#[tokio::test]
async fn unindexed_live_events_pass_through() {
    let (scripted, caching) = setup();
    let mut observer = caching.subscribe_with_replay(TOPIC).await.unwrap();
    scripted.send(Delivery::Event(Arc::new(Event::new(
        "chunk",
        "r",
        json!("local"),
    ))));
    let event = observer.next().await.unwrap().unwrap();
    assert_eq!((event.index, event.data.clone()), (None, json!("local")));
}

#[tokio::test(start_paused = true)]
async fn an_idle_observer_ends_with_a_timeout() {
    let (_scripted, caching) = setup();
    log_events(&caching, 1).await;
    let options = ObserveOptions::from_offset(1).with_idle_timeout(Duration::from_secs(300));
    let mut observer = caching.observe(TOPIC, options).await.unwrap();
    let outcome = observer.next().await.unwrap();
    assert!(
        matches!(outcome, Err(DurableError::IdleTimeout { .. })),
        "{outcome:?}"
    );
    assert!(observer.next().await.is_none());
}

#[tokio::test]
async fn observing_past_the_end_of_a_finished_run_ends_at_once() {
    let (_scripted, caching) = setup();
    log_events(&caching, 2).await;
    let finish = Event::new("finish", "r", json!({}));
    caching
        .publish_event(TOPIC, finish, PublishOptions::default())
        .await
        .unwrap();
    let mut observer = caching
        .observe(TOPIC, ObserveOptions::from_offset(3))
        .await
        .unwrap();
    assert!(observer.next().await.is_none());
}

/// A cache that is down.
#[derive(Debug)]
struct DownCache;

#[async_trait]
impl ServerCache for DownCache {
    async fn get(&self, _: &str) -> Result<Option<Value>, CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn set(&self, _: &str, _: Value, _: Ttl) -> Result<(), CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn delete(&self, _: &str) -> Result<(), CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn clear(&self) -> Result<(), CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn list_len(&self, _: &str) -> Result<u64, CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn list_range(&self, _: &str, _: u64, _: Option<u64>) -> Result<Vec<String>, CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn append_indexed(&self, _: &str, _: &str) -> Result<u64, CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
}

#[tokio::test]
async fn when_logging_fails_nothing_is_published_and_the_error_is_retryable() {
    let transport = Arc::new(mastra_pubsub::EventEmitterPubSub::new());
    let caching = CachingPubSub::new(transport.clone(), Arc::new(DownCache));
    let mut live = transport.subscribe(TOPIC).await.unwrap();
    let error = caching
        .publish_event(TOPIC, chunk(0), PublishOptions::default())
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    let via_trait = caching
        .publish(TOPIC, chunk(0), PublishOptions::default())
        .await
        .unwrap_err();
    assert!(via_trait.is_retryable());
    assert!(tokio::time::timeout(Duration::from_millis(50), live.next())
        .await
        .is_err());
    // Uncached topics do not touch the cache at all.
    caching
        .publish_event("agent.control.r", chunk(0), PublishOptions::default())
        .await
        .unwrap();
}
