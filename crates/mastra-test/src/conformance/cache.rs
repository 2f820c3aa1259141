//! The `ServerCache` contract itself: values, inclusive ranges, atomic indexed appends.

use std::sync::Arc;

use mastra_cache::{CacheError, Ttl};
use serde_json::json;

use crate::support::unique_topic;
use crate::{BackendFactory, CacheSettings};

/// Values round-trip, are replaced by `set`, and disappear on `delete`.
pub async fn values_round_trip_and_delete(factory: &dyn BackendFactory) {
    let cache = factory.open(CacheSettings::default()).await.cache;
    let key = unique_topic("value.");
    assert_eq!(cache.get(&key).await.expect("get"), None);
    let value = json!({"nested": {"list": [1, "two", null]}, "n": 1.5});
    cache
        .set(&key, value.clone(), Ttl::Default)
        .await
        .expect("set");
    assert_eq!(cache.get(&key).await.expect("get"), Some(value));
    cache
        .set(&key, json!("replaced"), Ttl::Default)
        .await
        .expect("set");
    assert_eq!(cache.get(&key).await.expect("get"), Some(json!("replaced")));
    cache.delete(&key).await.expect("delete");
    assert_eq!(cache.get(&key).await.expect("get"), None);
    cache
        .delete(&key)
        .await
        .expect("deleting a missing key is fine");
}

/// `clear` removes every key of the cache.
pub async fn clear_removes_everything(factory: &dyn BackendFactory) {
    let cache = factory.open(CacheSettings::default()).await.cache;
    let (value, log) = (unique_topic("value."), unique_topic("log."));
    cache
        .set(&value, json!(1), Ttl::Default)
        .await
        .expect("set");
    cache.append_indexed(&log, "{}").await.expect("append");
    cache.clear().await.expect("clear");
    assert_eq!(cache.get(&value).await.expect("get"), None);
    assert_eq!(cache.list_len(&log).await.expect("len"), 0);
}

/// Ranges are inclusive and clamped like `LRANGE`; each entry carries its position first.
pub async fn list_ranges_are_inclusive(factory: &dyn BackendFactory) {
    let cache = factory.open(CacheSettings::default()).await.cache;
    let log = unique_topic("log.");
    assert_eq!(cache.list_len(&log).await.expect("len"), 0);
    assert!(cache
        .list_range(&log, 0, None)
        .await
        .expect("range")
        .is_empty());
    for letter in ["a", "b", "c", "d", "e"] {
        cache
            .append_indexed(&log, &format!(r#"{{"v":"{letter}"}}"#))
            .await
            .expect("append");
    }
    let range = |start, end| {
        let cache = Arc::clone(&cache);
        let log = log.clone();
        async move { cache.list_range(&log, start, end).await.expect("range") }
    };
    assert_eq!(
        range(1, Some(3)).await,
        [
            r#"{"index":1,"v":"b"}"#,
            r#"{"index":2,"v":"c"}"#,
            r#"{"index":3,"v":"d"}"#
        ]
    );
    assert_eq!(range(2, Some(2)).await, [r#"{"index":2,"v":"c"}"#]);
    assert_eq!(
        range(3, None).await,
        [r#"{"index":3,"v":"d"}"#, r#"{"index":4,"v":"e"}"#]
    );
    assert_eq!(range(3, Some(99)).await.len(), 2);
    assert!(range(5, None).await.is_empty());
    assert!(range(3, Some(1)).await.is_empty());
    assert_eq!(cache.list_len(&log).await.expect("len"), 5);
    cache.delete(&log).await.expect("delete");
}

/// Concurrent appends each get a distinct position, and each stored entry names its own.
pub async fn concurrent_appends_get_their_positions(factory: &dyn BackendFactory) {
    let cache = factory.open(CacheSettings::default()).await.cache;
    let log = unique_topic("log.");
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (cache, log) = (Arc::clone(&cache), log.clone());
            tokio::spawn(async move {
                let mut indices = Vec::new();
                for n in 0..50 {
                    let entry = format!(r#"{{"w":{writer},"n":{n}}}"#);
                    indices.push(cache.append_indexed(&log, &entry).await.expect("append"));
                }
                indices
            })
        })
        .collect();
    let mut indices = Vec::new();
    for writer in writers {
        indices.extend(writer.await.expect("writer"));
    }
    indices.sort_unstable();
    assert_eq!(indices, (0..200).collect::<Vec<u64>>());
    for (position, raw) in cache
        .list_range(&log, 0, None)
        .await
        .expect("range")
        .iter()
        .enumerate()
    {
        assert!(
            raw.starts_with(&format!("{{\"index\":{position},")),
            "{raw}"
        );
    }
    cache.delete(&log).await.expect("delete");
}

/// Values and logs do not mix, and a log entry must be an object without an index.
pub async fn wrong_kinds_are_refused(factory: &dyn BackendFactory) {
    let cache = factory.open(CacheSettings::default()).await.cache;
    let (value, log) = (unique_topic("value."), unique_topic("log."));
    cache
        .set(&value, json!(1), Ttl::Default)
        .await
        .expect("set");
    let refused = cache.append_indexed(&value, "{}").await;
    assert!(
        matches!(refused, Err(CacheError::WrongType { .. })),
        "{refused:?}"
    );
    let refused = cache.append_indexed(&log, r#"{"index":3}"#).await;
    assert!(
        matches!(refused, Err(CacheError::InvalidEntry { .. })),
        "{refused:?}"
    );
    assert_eq!(cache.list_len(&log).await.expect("len"), 0);
    cache.delete(&value).await.expect("delete");
}
