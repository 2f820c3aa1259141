//! Shared set-up of the durable benches.

#![allow(dead_code)] // each bench uses only part of it

pub(crate) mod agents;

use std::sync::Arc;

use mastra_cache::{InMemoryServerCache, InMemoryServerCacheOptions};
use mastra_durable::CachingPubSub;
use mastra_pubsub::{Event, EventEmitterPubSub, EventType};
use serde_json::json;

/// A caching pubsub over the in-memory backends, with room for `max_keys` logs.
pub(crate) fn in_memory(max_keys: u64) -> CachingPubSub {
    in_memory_with_cache(max_keys).0
}

/// The same, also handing back the cache.
pub(crate) fn in_memory_with_cache(max_keys: u64) -> (CachingPubSub, InMemoryServerCache) {
    let cache = InMemoryServerCache::with_options(
        InMemoryServerCacheOptions::default().with_max_keys(max_keys),
    );
    let caching = CachingPubSub::new(Arc::new(EventEmitterPubSub::new()), Arc::new(cache.clone()));
    (caching, cache)
}

/// A caching pubsub over the in-memory backends with pipelined appends (not their default).
pub(crate) fn in_memory_pipelined(max_keys: u64) -> CachingPubSub {
    let cache = InMemoryServerCache::with_options(
        InMemoryServerCacheOptions::default().with_max_keys(max_keys),
    );
    let options = mastra_durable::CachingOptions::default().pipelined();
    CachingPubSub::with_options(
        Arc::new(EventEmitterPubSub::new()),
        Arc::new(cache),
        options,
    )
}

/// A chunk whose `data` serializes to exactly `payload_bytes` bytes (at least 12).
pub(crate) fn chunk_with_payload(run_id: &str, payload_bytes: usize) -> Event {
    // `{"text":""}` is 11 bytes of JSON around the text.
    let text = "x".repeat(payload_bytes.saturating_sub(11));
    Event::new(EventType::Chunk, run_id, json!({ "text": text }))
}

/// A multi-threaded runtime with both cores.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}
