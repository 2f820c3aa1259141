//! Lifetimes of cache entries (checklist item 10). These use real time, with margins
//! wide enough for a loaded machine.

use std::time::Duration;

use mastra_cache::Ttl;
use mastra_durable::AGENT_STREAM_PREFIX;
use serde_json::json;

use crate::support::{publish_chunks, take_indices, unique_topic};
use crate::{BackendFactory, CacheSettings};

const SHORT: Duration = Duration::from_millis(400);

/// Values and logs expire after the default TTL, and a value after its own TTL.
pub async fn entries_expire_after_their_ttl(factory: &dyn BackendFactory) {
    let cache = factory.open(CacheSettings::with_ttl(SHORT)).await.cache;
    let (value, log, own) = (unique_topic("v."), unique_topic("l."), unique_topic("o."));
    cache
        .set(&value, json!({"a": 1}), Ttl::Default)
        .await
        .expect("set");
    cache.append_indexed(&log, "{}").await.expect("append");
    cache
        .set(&own, json!(1), Ttl::After(Duration::from_millis(150)))
        .await
        .expect("set");
    assert_eq!(cache.get(&value).await.expect("get"), Some(json!({"a": 1})));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        cache.get(&own).await.expect("get"),
        None,
        "its own TTL elapsed"
    );
    assert!(
        cache.get(&value).await.expect("get").is_some(),
        "the default TTL has not"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(cache.get(&value).await.expect("get"), None);
    assert_eq!(cache.list_len(&log).await.expect("len"), 0);
}

/// Every append refreshes the log's TTL.
pub async fn an_append_refreshes_the_ttl(factory: &dyn BackendFactory) {
    let cache = factory
        .open(CacheSettings::with_ttl(Duration::from_millis(1_000)))
        .await
        .cache;
    let log = unique_topic("l.");
    cache.append_indexed(&log, "{}").await.expect("append");
    tokio::time::sleep(Duration::from_millis(600)).await;
    cache.append_indexed(&log, "{}").await.expect("append");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        cache.list_len(&log).await.expect("len"),
        2,
        "alive past its first deadline"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        cache.list_len(&log).await.expect("len"),
        0,
        "gone after the refreshed one"
    );
}

/// A TTL of 0 never expires: as the cache default, and as `Ttl::Never` on one key.
pub async fn ttl_zero_never_expires(factory: &dyn BackendFactory) {
    let forever = factory
        .open(CacheSettings::with_ttl(Duration::ZERO))
        .await
        .cache;
    let short = factory.open(CacheSettings::with_ttl(SHORT)).await.cache;
    let (log, value, pinned) = (unique_topic("l."), unique_topic("v."), unique_topic("p."));
    forever.append_indexed(&log, "{}").await.expect("append");
    forever
        .set(&value, json!(1), Ttl::Default)
        .await
        .expect("set");
    short
        .set(&pinned, json!(2), Ttl::from(Duration::ZERO))
        .await
        .expect("set");
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(forever.list_len(&log).await.expect("len"), 1);
    assert_eq!(forever.get(&value).await.expect("get"), Some(json!(1)));
    assert_eq!(short.get(&pinned).await.expect("get"), Some(json!(2)));
    for key in [&log, &value] {
        forever.delete(key).await.expect("delete");
    }
    short.delete(&pinned).await.expect("delete");
}

/// At the key cap the oldest key is evicted (for backends that enforce a cap; the others
/// must keep every key).
pub async fn the_oldest_key_is_evicted_at_the_cap(factory: &dyn BackendFactory) {
    let settings = CacheSettings {
        max_keys: 3,
        ..CacheSettings::default()
    };
    let cache = factory.open(settings).await.cache;
    let keys: Vec<String> = (0..4).map(|_| unique_topic("cap.")).collect();
    for (n, key) in keys.iter().enumerate() {
        cache.set(key, json!(n), Ttl::Default).await.expect("set");
    }
    let oldest = cache.get(&keys[0]).await.expect("get");
    if factory.enforces_key_cap() {
        assert_eq!(oldest, None, "the oldest key is evicted");
    } else {
        assert_eq!(
            oldest,
            Some(json!(0)),
            "a backend without a cap keeps every key"
        );
    }
    for (n, key) in keys.iter().enumerate().skip(1) {
        assert_eq!(cache.get(key).await.expect("get"), Some(json!(n)));
    }
    for key in &keys {
        cache.delete(key).await.expect("delete");
    }
}

/// An expired history replays nothing, and live events still flow (the log starts anew).
pub async fn expired_history_replays_nothing_and_live_flows(factory: &dyn BackendFactory) {
    let caching = factory.open(CacheSettings::with_ttl(SHORT)).await.caching();
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    publish_chunks(&caching, &topic, 3).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        caching.history(&topic, 0).await.expect("history"),
        Vec::new()
    );
    let mut observer = caching
        .subscribe_with_replay(&topic)
        .await
        .expect("subscribe");
    publish_chunks(&caching, &topic, 2).await;
    assert_eq!(take_indices(&mut observer, 2).await, vec![0, 1]);
}
