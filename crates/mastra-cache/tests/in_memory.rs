//! Behaviour specific to the in-memory cache (the shared contract is proven for every
//! backend by the `mastra-test` conformance suite).

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers of a test file

use std::sync::Arc;
use std::time::Duration;

use mastra_cache::{CacheError, InMemoryServerCache, InMemoryServerCacheOptions, ServerCache, Ttl};
use serde_json::json;

fn cache(ttl_ms: u64, max_keys: u64) -> InMemoryServerCache {
    InMemoryServerCache::with_options(
        InMemoryServerCacheOptions::default()
            .with_ttl(Duration::from_millis(ttl_ms))
            .with_max_keys(max_keys),
    )
}

#[test]
fn defaults_are_upstreams() {
    let options = InMemoryServerCache::new().options();
    assert_eq!(options.ttl, Duration::from_secs(300));
    assert_eq!(options.max_keys, 1_000);
}

#[tokio::test]
async fn the_oldest_key_is_evicted_exactly_at_the_cap() {
    let cache = cache(0, 3);
    cache.set("a", json!(1), Ttl::Default).await.unwrap();
    cache.append_indexed("b", "{}").await.unwrap();
    cache.set("c", json!(3), Ttl::Default).await.unwrap();
    assert_eq!(cache.key_count(), 3);
    cache.set("d", json!(4), Ttl::Default).await.unwrap();
    assert_eq!(cache.key_count(), 3);
    assert_eq!(
        cache.get("a").await.unwrap(),
        None,
        "the oldest key goes first"
    );
    assert_eq!(cache.list_len("b").await.unwrap(), 1);
    // Appending to an existing log creates no key, so it evicts nothing.
    cache.append_indexed("b", "{}").await.unwrap();
    assert_eq!(cache.key_count(), 3);
    assert_eq!(cache.get("c").await.unwrap(), Some(json!(3)));
}

#[tokio::test]
async fn concurrent_appends_get_distinct_positions_that_match_their_entries() {
    let cache = Arc::new(InMemoryServerCache::new());
    let tasks: Vec<_> = (0..8)
        .map(|writer| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                let mut indices = Vec::new();
                for n in 0..200 {
                    let entry = format!(r#"{{"writer":{writer},"n":{n}}}"#);
                    indices.push(cache.append_indexed("log", &entry).await.unwrap());
                }
                indices
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (0..1600).collect::<Vec<u64>>());
    for (position, raw) in cache
        .list_range("log", 0, None)
        .await
        .unwrap()
        .iter()
        .enumerate()
    {
        let entry: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(entry["index"], json!(position));
        assert!(raw.starts_with(&format!("{{\"index\":{position},")));
    }
}

#[tokio::test]
async fn a_log_that_expired_starts_again_at_zero() {
    let cache = cache(100, 10);
    assert_eq!(cache.append_indexed("log", "{}").await.unwrap(), 0);
    assert_eq!(cache.append_indexed("log", "{}").await.unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(cache.list_len("log").await.unwrap(), 0);
    assert_eq!(cache.append_indexed("log", "{}").await.unwrap(), 0);
}

#[tokio::test]
async fn values_and_logs_do_not_mix() {
    let cache = InMemoryServerCache::new();
    cache.set("v", json!("x"), Ttl::Default).await.unwrap();
    cache.append_indexed("l", "{}").await.unwrap();
    assert!(matches!(
        cache.append_indexed("v", "{}").await,
        Err(CacheError::WrongType { .. })
    ));
    assert!(matches!(
        cache.list_len("v").await,
        Err(CacheError::WrongType { .. })
    ));
    assert!(matches!(
        cache.get("l").await,
        Err(CacheError::WrongType { .. })
    ));
    assert!(matches!(
        cache.append_indexed("l", "[]").await,
        Err(CacheError::InvalidEntry { .. })
    ));
    assert!(!CacheError::WrongType {
        key: "k".into(),
        expected: "list"
    }
    .is_retryable());
    // `set` replaces a log, as Redis SET does.
    cache.set("l", json!(1), Ttl::Default).await.unwrap();
    assert_eq!(cache.get("l").await.unwrap(), Some(json!(1)));
}

#[tokio::test]
async fn expired_keys_are_freed_not_just_hidden() {
    let cache = cache(100, 10);
    cache.append_indexed("log", "{}").await.unwrap();
    cache.set("v", json!(1), Ttl::Default).await.unwrap();
    cache.set("pinned", json!(1), Ttl::Never).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(cache.get("v").await.unwrap(), None);
    // Reading an expired key removes it at once; moka frees the others a little later.
    assert_eq!(cache.key_count(), 2);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(cache.key_count(), 1, "only the pinned key is left");
}

#[tokio::test]
async fn handed_over_entries_read_back_like_borrowed_ones() {
    let cache = InMemoryServerCache::new();
    // Compact (kept as is), padded (re-written) and borrowed entries share one log.
    let compact = String::from(r#"{"type":"chunk","n":1}"#);
    assert_eq!(cache.append_indexed_owned("log", compact).await.unwrap(), 0);
    let padded = String::from(" {  \"type\":\"chunk\",\"n\":2}");
    assert_eq!(cache.append_indexed_owned("log", padded).await.unwrap(), 1);
    assert_eq!(cache.append_indexed("log", r#"{"n":3}"#).await.unwrap(), 2);
    assert_eq!(
        cache
            .append_indexed_owned("log", "{}".into())
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        cache.list_range("log", 0, None).await.unwrap(),
        vec![
            r#"{"index":0,"type":"chunk","n":1}"#.to_owned(),
            r#"{"index":1,"type":"chunk","n":2}"#.to_owned(),
            r#"{"index":2,"n":3}"#.to_owned(),
            r#"{"index":3}"#.to_owned(),
        ]
    );
    // Bad entries are refused on this path too, and take no position.
    assert!(cache
        .append_indexed_owned("log", "[1]".into())
        .await
        .is_err());
    assert!(cache
        .append_indexed_owned("log", r#"{"index":9}"#.into())
        .await
        .is_err());
    assert_eq!(cache.list_len("log").await.unwrap(), 4);
}
