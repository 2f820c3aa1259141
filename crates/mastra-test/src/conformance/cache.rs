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

/// A batch takes consecutive positions between single appends, each entry stored exactly
/// as a single append stores it; an empty batch writes nothing and returns the length.
pub async fn batch_appends_continue_the_log(factory: &dyn BackendFactory) {
    let cache = factory.open(CacheSettings::default()).await.cache;
    let log = unique_topic("log.");
    let batch = |entries: &[&str]| entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        cache.append_indexed_batch(&log, &[]).await.expect("empty"),
        0
    );
    assert_eq!(cache.list_len(&log).await.expect("len"), 0);
    let entries = batch(&[r#"{"v":"a"}"#, "{}"]);
    let first = cache.append_indexed_batch(&log, &entries).await;
    assert_eq!(first.expect("batch"), 0);
    assert_eq!(
        cache
            .append_indexed(&log, r#"{"v":"c"}"#)
            .await
            .expect("one"),
        2
    );
    let entries = batch(&[r#"{"v":"d"}"#, r#"{ "v" : "e" }"#, r#"{"v":"f"}"#]);
    assert_eq!(
        cache
            .append_indexed_batch(&log, &entries)
            .await
            .expect("batch"),
        3
    );
    assert_eq!(
        cache.append_indexed_batch(&log, &[]).await.expect("empty"),
        6
    );
    assert_eq!(
        cache
            .append_indexed(&log, r#"{"v":"g"}"#)
            .await
            .expect("one"),
        6
    );
    assert_eq!(
        cache.list_range(&log, 0, None).await.expect("range"),
        [
            r#"{"index":0,"v":"a"}"#,
            r#"{"index":1}"#,
            r#"{"index":2,"v":"c"}"#,
            r#"{"index":3,"v":"d"}"#,
            r#"{"index":4,"v" : "e" }"#,
            r#"{"index":5,"v":"f"}"#,
            r#"{"index":6,"v":"g"}"#,
        ]
    );
    // A bad entry anywhere refuses the whole batch.
    let refused = cache
        .append_indexed_batch(&log, &batch(&[r#"{"v":"h"}"#, r#"{"index":9}"#]))
        .await;
    assert!(
        matches!(refused, Err(CacheError::InvalidEntry { .. })),
        "{refused:?}"
    );
    assert_eq!(cache.list_len(&log).await.expect("len"), 7);
    cache.delete(&log).await.expect("delete");
}

/// Concurrent batches never interleave: each gets consecutive positions, in its order.
pub async fn concurrent_batches_stay_contiguous(factory: &dyn BackendFactory) {
    let cache = factory.open(CacheSettings::default()).await.cache;
    let log = unique_topic("log.");
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (cache, log) = (Arc::clone(&cache), log.clone());
            tokio::spawn(async move {
                let mut firsts = Vec::new();
                for batch in 0..10 {
                    let entries: Vec<String> = (0..5)
                        .map(|n| format!(r#"{{"w":{writer},"b":{batch},"n":{n}}}"#))
                        .collect();
                    let first = cache.append_indexed_batch(&log, &entries).await;
                    firsts.push((batch, first.expect("batch")));
                }
                (writer, firsts)
            })
        })
        .collect();
    let stored = {
        let mut all = Vec::new();
        for writer in writers {
            all.push(writer.await.expect("writer"));
        }
        all
    };
    let entries = cache.list_range(&log, 0, None).await.expect("range");
    assert_eq!(entries.len(), 200);
    for (writer, firsts) in stored {
        for (batch, first) in firsts {
            for n in 0..5u64 {
                let index = first + n;
                assert_eq!(
                    entries[index as usize],
                    format!(r#"{{"index":{index},"w":{writer},"b":{batch},"n":{n}}}"#)
                );
            }
        }
    }
    cache.delete(&log).await.expect("delete");
}
