//! The run log: indices, restarts, bypasses, offsets, late and repeated readers
//! (checklist items 1, 2, 3, 6, 7, 8, 9).

use mastra_durable::{CachingPubSub, AGENT_CONTROL_PREFIX, AGENT_STREAM_PREFIX};
use mastra_pubsub::{EventType, PubSub, PublishOptions};

use crate::support::{
    assert_live_quiet, chunk, event_of, indices_to_end, next_live, publish_chunks, range,
    take_indices, unique_topic,
};
use crate::{BackendFactory, CacheSettings};

/// Item 1: indices are 0-based and sequential, in history and in live delivery.
pub async fn indices_are_zero_based_and_sequential(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    let mut live = caching.subscribe(&topic).await.expect("subscribe");
    assert_eq!(publish_chunks(&caching, &topic, 5).await, range(0, 5));
    for expected in 0..5 {
        assert_eq!(next_live(&mut live).await.index, Some(expected));
    }
    let history = caching.history(&topic, 0).await.expect("history");
    let history: Vec<_> = history.iter().map(|event| event.index).collect();
    assert_eq!(history, (0..5).map(Some).collect::<Vec<_>>());
    assert_eq!(caching.history_len(&topic).await.expect("len"), 5);
    let mut replay = caching.subscribe_with_replay(&topic).await.expect("replay");
    assert_eq!(take_indices(&mut replay, 5).await, range(0, 5));
}

/// Item 2: the index continues after a restart over the same cache, and starts again at 0
/// after the topic is cleared.
pub async fn index_survives_restart_and_resets_on_clear(factory: &dyn BackendFactory) {
    let backend = factory.open(CacheSettings::default()).await;
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    assert_eq!(
        publish_chunks(&backend.caching(), &topic, 3).await,
        range(0, 3)
    );

    let restarted = factory.reopen(&backend).await.caching();
    assert_eq!(publish_chunks(&restarted, &topic, 2).await, range(3, 5));
    assert_eq!(restarted.history_len(&topic).await.expect("len"), 5);

    restarted.clear_topic(&topic).await.expect("clear");
    assert_eq!(restarted.history_len(&topic).await.expect("len"), 0);
    assert_eq!(publish_chunks(&restarted, &topic, 1).await, vec![0]);
}

/// Item 3: `local_only` events and uncached topics get no index and are not logged, yet
/// are delivered live; they allocate no index either.
pub async fn uncached_events_get_no_index_but_flow_live(factory: &dyn BackendFactory) {
    let backend = factory.open(CacheSettings::default()).await;
    let caching = backend.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    let mut live = caching.subscribe(&topic).await.expect("subscribe");

    publish_chunks(&caching, &topic, 1).await;
    let local = caching
        .publish_event(&topic, chunk(1), PublishOptions::local_only())
        .await
        .expect("publish");
    assert_eq!(local, None);
    assert_eq!(next_live(&mut live).await.index, Some(0));
    let delivered = next_live(&mut live).await;
    assert_eq!(
        (delivered.index, delivered.data["n"].as_u64()),
        (None, Some(1))
    );
    assert_eq!(caching.history_len(&topic).await.expect("len"), 1);
    assert_eq!(
        publish_chunks(&caching, &topic, 1).await,
        vec![1],
        "no index was allocated"
    );

    let control = unique_topic(AGENT_CONTROL_PREFIX);
    assert!(!caching.caches(&control));
    let mut control_live = caching.subscribe(&control).await.expect("subscribe");
    let abort = event_of(EventType::Other("abort-request".into()));
    let index = caching
        .publish_event(&control, abort, PublishOptions::default())
        .await
        .expect("publish");
    assert_eq!(index, None);
    assert_eq!(next_live(&mut control_live).await.index, None);
    assert_eq!(caching.history_len(&control).await.expect("len"), 0);
    let key = caching.log().key(&control);
    assert_eq!(
        backend.cache.list_len(&key).await.expect("len"),
        0,
        "nothing stored"
    );

    let custom = CachingPubSub::with_options(
        backend.pubsub.clone(),
        backend.cache.clone(),
        mastra_durable::CachingOptions::default().without_caching("conformance.private."),
    );
    let private = unique_topic("conformance.private.");
    let mut private_live = custom.subscribe(&private).await.expect("subscribe");
    assert_eq!(
        custom
            .publish_event(&private, chunk(0), PublishOptions::default())
            .await
            .expect("publish"),
        None
    );
    assert_eq!(next_live(&mut private_live).await.index, None);
    assert_eq!(custom.history_len(&private).await.expect("len"), 0);
}

/// Item 6: subscribing from offset 2 over events 0..=3 delivers exactly [2, 3], then live.
pub async fn subscribe_from_offset_is_inclusive(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    publish_chunks(&caching, &topic, 4).await;
    let mut observer = caching
        .subscribe_from_offset(&topic, 2)
        .await
        .expect("subscribe");
    assert_eq!(take_indices(&mut observer, 2).await, vec![2, 3]);
    crate::support::assert_quiet(&mut observer).await;
    publish_chunks(&caching, &topic, 1).await;
    assert_eq!(take_indices(&mut observer, 1).await, vec![4]);
    assert_eq!(caching.history(&topic, 2).await.expect("history").len(), 3);
}

/// Item 7: a late subscriber to a finished run receives the whole history, `finish` included.
pub async fn late_subscriber_gets_full_history_with_finish(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    publish_chunks(&caching, &topic, 3).await;
    caching
        .publish_event(
            &topic,
            event_of(EventType::Finish),
            PublishOptions::default(),
        )
        .await
        .expect("publish");
    let mut late = caching
        .subscribe_with_replay(&topic)
        .await
        .expect("subscribe");
    let mut kinds = Vec::new();
    while let Some(event) = crate::support::next_event(&mut late).await {
        kinds.push((event.index, event.kind.clone()));
    }
    assert_eq!(kinds.len(), 4);
    assert_eq!(kinds.last(), Some(&(Some(3), EventType::Finish)));
}

/// Item 8: two subscribers each receive the full history and what follows; topics are
/// isolated from each other.
pub async fn subscribers_are_independent_and_topics_isolated(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let (a, b) = (
        unique_topic(AGENT_STREAM_PREFIX),
        unique_topic(AGENT_STREAM_PREFIX),
    );
    publish_chunks(&caching, &a, 3).await;
    let mut first = caching.subscribe_with_replay(&a).await.expect("subscribe");
    let mut second = caching.subscribe_with_replay(&a).await.expect("subscribe");
    let mut other = caching.subscribe_with_replay(&b).await.expect("subscribe");
    let mut other_live = caching.subscribe(&b).await.expect("subscribe");
    assert_eq!(
        publish_chunks(&caching, &b, 2).await,
        vec![0, 1],
        "each topic counts from 0"
    );
    publish_chunks(&caching, &a, 1).await;
    assert_eq!(take_indices(&mut first, 4).await, range(0, 4));
    assert_eq!(take_indices(&mut second, 4).await, range(0, 4));
    assert_eq!(take_indices(&mut other, 2).await, range(0, 2));
    crate::support::assert_quiet(&mut other).await;
    for expected in 0..2 {
        assert_eq!(next_live(&mut other_live).await.index, Some(expected));
    }
    assert_live_quiet(&mut other_live).await;
}

/// Item 9: unsubscribe, miss events, resubscribe from the next offset: nothing lost,
/// nothing repeated.
pub async fn resubscribing_from_next_offset_loses_nothing(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::default()).await.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    let mut observer = caching
        .subscribe_with_replay(&topic)
        .await
        .expect("subscribe");
    publish_chunks(&caching, &topic, 3).await;
    let seen = take_indices(&mut observer, 3).await;
    drop(observer);
    publish_chunks(&caching, &topic, 3).await;
    let last = seen.last().copied().unwrap_or_default();
    let mut again = caching
        .subscribe_from_offset(&topic, last + 1)
        .await
        .expect("subscribe");
    publish_chunks(&caching, &topic, 1).await;
    caching
        .publish_event(
            &topic,
            event_of(EventType::Finish),
            PublishOptions::default(),
        )
        .await
        .expect("publish");
    let mut all = seen;
    all.extend(indices_to_end(&mut again).await);
    assert_eq!(all, range(0, 8));
}
