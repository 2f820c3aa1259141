//! How observation ends: terminal events, unknown runs, idle observers
//! (checklist items 4 and 11).

use std::time::{Duration, Instant};

use mastra_durable::{DurableError, ObserveOptions, AGENT_STREAM_PREFIX};
use mastra_pubsub::{EventType, PubSub, PublishOptions};

use crate::support::{
    event_of, indices_to_end, next_event, publish_chunks, range, take_indices, unique_topic,
};
use crate::{BackendFactory, CacheSettings};

/// A terminal event (`finish`, `error`, `abort`) ends every observer, live or late;
/// `suspended` does not.
pub async fn terminal_events_end_every_observer(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    for terminal in [EventType::Finish, EventType::Error, EventType::Abort] {
        let topic = unique_topic(AGENT_STREAM_PREFIX);
        let mut early = caching
            .subscribe_with_replay(&topic)
            .await
            .expect("subscribe");
        publish_chunks(&caching, &topic, 1).await;
        caching
            .publish_event(
                &topic,
                event_of(EventType::Suspended),
                PublishOptions::default(),
            )
            .await
            .expect("publish");
        assert_eq!(
            take_indices(&mut early, 2).await,
            range(0, 2),
            "suspended does not end it"
        );
        caching
            .publish_event(
                &topic,
                event_of(terminal.clone()),
                PublishOptions::default(),
            )
            .await
            .expect("publish");
        let mut late = caching
            .observe(&topic, ObserveOptions::from_offset(1))
            .await
            .expect("observe");
        assert_eq!(indices_to_end(&mut early).await, vec![2], "{terminal}");
        assert_eq!(indices_to_end(&mut late).await, vec![1, 2], "{terminal}");
        // Nothing published after the terminal event reaches an observer that ended.
        publish_chunks(&caching, &topic, 1).await;
        assert!(next_event(&mut early).await.is_none());
    }
}

fn assert_unknown(
    outcome: Result<mastra_durable::ReplaySubscription, DurableError>,
    started: Instant,
) {
    match outcome {
        Err(DurableError::UnknownRun { .. }) => {}
        other => panic!("expected an unknown-run error, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it must answer promptly"
    );
}

/// Item 11: observing a run that never existed, was cleared or expired fails at once
/// with an unknown-run error instead of hanging.
pub async fn unknown_cleared_or_expired_runs_end_promptly(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let never = unique_topic(AGENT_STREAM_PREFIX);
    let started = Instant::now();
    assert_unknown(
        caching.observe(&never, ObserveOptions::default()).await,
        started,
    );

    let cleared = unique_topic(AGENT_STREAM_PREFIX);
    publish_chunks(&caching, &cleared, 2).await;
    caching.clear_topic(&cleared).await.expect("clear");
    let started = Instant::now();
    assert_unknown(
        caching
            .observe(&cleared, ObserveOptions::from_offset(0))
            .await,
        started,
    );

    let short = factory
        .open(CacheSettings::with_ttl(Duration::from_millis(300)))
        .await
        .caching();
    let expired = unique_topic(AGENT_STREAM_PREFIX);
    publish_chunks(&short, &expired, 2).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let started = Instant::now();
    assert_unknown(
        short.observe(&expired, ObserveOptions::default()).await,
        started,
    );
}

/// Item 11: an observer may set an idle timeout; it then ends with an explicit error.
pub async fn idle_observer_ends_with_a_timeout(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    publish_chunks(&caching, &topic, 1).await;
    let options = ObserveOptions::default().with_idle_timeout(Duration::from_millis(200));
    let mut observer = caching.observe(&topic, options).await.expect("observe");
    assert_eq!(take_indices(&mut observer, 1).await, vec![0]);
    let started = Instant::now();
    match observer.next().await {
        Some(Err(DurableError::IdleTimeout { .. })) => {}
        other => panic!("expected an idle timeout, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(observer.next().await.is_none(), "the observer ended");
}
