//! Live delivery and the replay-to-live hand-off (checklist items 4, 5 and 12).

use std::sync::Arc;

use mastra_durable::{CachingPubSub, AGENT_STREAM_PREFIX};
use mastra_pubsub::{Delivery, PubSub};

use crate::hooks::{HookedCache, HookedPubSub, Injection, ReadHook};
use crate::support::{
    assert_quiet, chunk, next_live, publish_chunks, range, take_indices, unique_topic, PATIENCE,
};
use crate::{BackendFactory, CacheSettings};

/// Item 4: a plain subscribe delivers live events only.
pub async fn plain_subscribe_is_live_only(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    publish_chunks(&caching, &topic, 3).await;
    let mut live = caching.subscribe(&topic).await.expect("subscribe");
    publish_chunks(&caching, &topic, 2).await;
    assert_eq!(next_live(&mut live).await.index, Some(3));
    assert_eq!(next_live(&mut live).await.index, Some(4));
}

/// Item 4: subscribe-with-replay delivers the history, then live events.
pub async fn replay_delivers_history_then_live(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    publish_chunks(&caching, &topic, 3).await;
    let mut observer = caching
        .subscribe_with_replay(&topic)
        .await
        .expect("subscribe");
    assert_eq!(take_indices(&mut observer, 3).await, range(0, 3));
    publish_chunks(&caching, &topic, 2).await;
    assert_eq!(take_indices(&mut observer, 2).await, range(3, 5));
    assert_quiet(&mut observer).await;
}

/// Where item 5's injected events land during an observer's set-up.
#[derive(Debug, Clone, Copy)]
enum SetupMoment {
    AfterLiveSubscribe,
    BeforeHistoryRead,
    AfterHistoryRead,
}

/// Item 5: an event published while a subscriber is setting up is delivered exactly once,
/// whether it lands right after the live subscription, just before the history read (so
/// it is both in the history and queued live) or just after it (queued live only).
pub async fn event_published_during_setup_is_delivered_once(factory: &dyn BackendFactory) {
    for moment in [
        SetupMoment::AfterLiveSubscribe,
        SetupMoment::BeforeHistoryRead,
        SetupMoment::AfterHistoryRead,
    ] {
        let backend = factory.open(CacheSettings::default()).await;
        let pubsub = Arc::new(HookedPubSub::new(backend.pubsub.clone()));
        let cache = Arc::new(HookedCache::new(backend.cache.clone()));
        let caching = CachingPubSub::new(pubsub.clone(), cache.clone());
        let topic = unique_topic(AGENT_STREAM_PREFIX);
        publish_chunks(&caching, &topic, 2).await;

        let injection =
            Injection::publish(caching.clone(), topic.clone(), vec![chunk(2), chunk(3)]);
        match moment {
            SetupMoment::AfterLiveSubscribe => pubsub.arm(injection),
            SetupMoment::BeforeHistoryRead => cache.arm(ReadHook::BeforeRead, injection),
            SetupMoment::AfterHistoryRead => cache.arm(ReadHook::AfterRead, injection),
        }
        let mut observer = caching
            .subscribe_with_replay(&topic)
            .await
            .expect("subscribe");
        // The injected events are the last ones for now: nothing later can reveal a gap.
        assert_eq!(
            take_indices(&mut observer, 4).await,
            range(0, 4),
            "{moment:?}"
        );
        publish_chunks(&caching, &topic, 1).await;
        assert_eq!(take_indices(&mut observer, 1).await, vec![4], "{moment:?}");
        assert_quiet(&mut observer).await;
    }
}

/// Item 12: an observer that falls far behind catches up from the log and still receives
/// every index exactly once.
pub async fn slow_observer_catches_up_from_the_log(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    let mut observer = caching
        .subscribe_with_replay(&topic)
        .await
        .expect("subscribe");
    publish_chunks(&caching, &topic, 3_000).await;
    assert_eq!(take_indices(&mut observer, 3_000).await, range(0, 3_000));
    publish_chunks(&caching, &topic, 1).await;
    assert_eq!(take_indices(&mut observer, 1).await, vec![3_000]);
}

/// Item 12: a plain subscriber that falls behind is told how many events it missed; what
/// it receives plus what it is told it missed accounts for every event, in order.
pub async fn slow_plain_subscriber_is_told_what_it_missed(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    let mut live = caching.subscribe(&topic).await.expect("subscribe");
    let total = 3_000;
    publish_chunks(&caching, &topic, total).await;
    let (mut received, mut missed, mut last, mut reconnected) = (0, 0, None, false);
    while last != Some(total - 1) {
        let delivery = tokio::time::timeout(PATIENCE, live.next())
            .await
            .unwrap_or_else(|_| panic!("accounted for {received} + {missed} of {total}"));
        match delivery {
            Some(Delivery::Event(event)) => {
                let index = event.index.expect("indexed");
                assert!(
                    last.is_none_or(|last| index > last),
                    "out of order: {index} after {last:?}"
                );
                received += 1;
                last = Some(index);
            }
            Some(Delivery::Lagged { missed: count }) => missed += count,
            // A reconnect is explicit too, but cannot say how many events it cost.
            Some(Delivery::Reconnected) => reconnected = true,
            other => panic!("unexpected delivery {other:?}"),
        }
    }
    if !reconnected {
        assert_eq!(
            received + missed,
            total,
            "every event is received or reported missed"
        );
    }
}
