//! `InMemoryServerCache`: the process-local cache, on moka.

mod append;
mod slot;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::ops::compute::Op;
use moka::policy::EvictionPolicy;
use serde_json::Value;

use crate::cache::{entry_body, indexed_entry};
use crate::{CacheError, ServerCache, Ttl};
use append::Batch;
use slot::{lock, Epoch, Slot, SlotExpiry, Stored};

/// Upstream's defaults: 300 s TTL, at most 1,000 keys.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// At most this many keys by default; the least recently used key is evicted beyond it.
pub const DEFAULT_MAX_KEYS: u64 = 1_000;

/// Settings of an [`InMemoryServerCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct InMemoryServerCacheOptions {
    /// Default lifetime of a key; `Duration::ZERO` means keys never expire.
    pub ttl: Duration,
    /// Most keys held at once (values and logs alike).
    pub max_keys: u64,
}

impl Default for InMemoryServerCacheOptions {
    fn default() -> Self {
        Self {
            ttl: DEFAULT_TTL,
            max_keys: DEFAULT_MAX_KEYS,
        }
    }
}

impl InMemoryServerCacheOptions {
    /// These options with another default TTL (`Duration::ZERO` = never expire).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// These options with another key cap.
    pub fn with_max_keys(mut self, max_keys: u64) -> Self {
        self.max_keys = max_keys;
        self
    }
}

/// A [`ServerCache`] in process memory. Clones share the same entries.
///
/// Keys expire after their TTL (refreshed by every log append); beyond `max_keys` the
/// least recently used key is evicted, which for keys nobody reads is the oldest one.
#[derive(Clone)]
pub struct InMemoryServerCache {
    entries: moka::sync::Cache<String, Arc<Slot>>,
    epoch: Epoch,
    options: InMemoryServerCacheOptions,
}

impl Default for InMemoryServerCache {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for InMemoryServerCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryServerCache")
            .field("options", &self.options)
            .field("keys", &self.entries.entry_count())
            .finish()
    }
}

impl InMemoryServerCache {
    /// A cache with upstream's defaults (300 s TTL, 1,000 keys).
    pub fn new() -> Self {
        Self::with_options(InMemoryServerCacheOptions::default())
    }

    /// A cache with the given TTL and key cap.
    pub fn with_options(options: InMemoryServerCacheOptions) -> Self {
        let epoch = Epoch::now();
        let entries = moka::sync::Cache::builder()
            .max_capacity(options.max_keys)
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(SlotExpiry)
            .build();
        Self {
            entries,
            epoch,
            options,
        }
    }

    /// The settings this cache was built with.
    pub fn options(&self) -> InMemoryServerCacheOptions {
        self.options
    }

    /// How many keys the cache holds, after applying pending evictions and expirations.
    pub fn key_count(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// The slot at `key` if it is alive. An expired slot still held by moka is removed,
    /// unless an append replaced it meanwhile.
    fn live(&self, key: &str) -> Option<Arc<Slot>> {
        let slot = self.entries.get(key)?;
        if slot.is_live(self.epoch, Instant::now()) {
            return Some(slot);
        }
        self.entries
            .entry_by_ref(key)
            .and_compute_with(|current| match current {
                Some(entry) if !entry.value().is_live(self.epoch, Instant::now()) => Op::Remove,
                _ => Op::Nop,
            });
        None
    }

    fn default_ttl(&self) -> Option<Duration> {
        Ttl::from(self.options.ttl).resolve(None)
    }

    /// Applies the key cap now rather than at moka's next maintenance, so it is exact.
    fn enforce_cap(&self) {
        self.entries.run_pending_tasks();
    }
}

#[async_trait]
impl ServerCache for InMemoryServerCache {
    async fn get(&self, key: &str) -> Result<Option<Value>, CacheError> {
        match self.live(key) {
            None => Ok(None),
            Some(slot) => match &slot.stored {
                Stored::Value(value) => Ok(Some(value.clone())),
                Stored::Log(_) => Err(wrong_type(key, "value")),
            },
        }
    }

    async fn set(&self, key: &str, value: Value, ttl: Ttl) -> Result<(), CacheError> {
        let slot = Slot::value(self.epoch, value, ttl.resolve(self.default_ttl()));
        self.entries.insert(key.to_owned(), slot);
        self.enforce_cap();
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.entries.invalidate(key);
        Ok(())
    }

    async fn clear(&self) -> Result<(), CacheError> {
        self.entries.invalidate_all();
        self.entries.run_pending_tasks();
        Ok(())
    }

    async fn list_len(&self, key: &str) -> Result<u64, CacheError> {
        match self.live(key) {
            None => Ok(0),
            Some(slot) => match &slot.stored {
                Stored::Log(log) => Ok(lock(log).len() as u64),
                Stored::Value(_) => Err(wrong_type(key, "list")),
            },
        }
    }

    async fn list_range(
        &self,
        key: &str,
        start: u64,
        end: Option<u64>,
    ) -> Result<Vec<String>, CacheError> {
        let Some(slot) = self.live(key) else {
            return Ok(Vec::new());
        };
        let Stored::Log(log) = &slot.stored else {
            return Err(wrong_type(key, "list"));
        };
        let log = lock(log);
        let len = log.len() as u64;
        let last = end.map_or(len, |end| end.saturating_add(1)).min(len);
        if start >= last {
            return Ok(Vec::new());
        }
        let bodies = log.get(start as usize..last as usize).unwrap_or_default();
        Ok((start..)
            .zip(bodies)
            .map(|(index, stored)| indexed_entry(index, stored_body(stored)))
            .collect())
    }

    async fn append_indexed(&self, key: &str, entry: &str) -> Result<u64, CacheError> {
        let body = entry_body(key, entry)?;
        self.append_stored(key, Batch::One(format!("{{{body}").into_boxed_str()))
    }

    /// Keeps the caller's buffer as the stored entry: no copy when it is already in the
    /// compact form `{...` that the encoder of the run log writes.
    async fn append_indexed_owned(&self, key: &str, entry: String) -> Result<u64, CacheError> {
        let body = entry_body(key, &entry)?;
        let stored = if entry.len() == body.len() + 1 {
            entry.into_boxed_str()
        } else {
            format!("{{{body}").into_boxed_str()
        };
        self.append_stored(key, Batch::One(stored))
    }

    /// Every entry under one lock of the log, so the batch takes consecutive positions.
    async fn append_indexed_batch(&self, key: &str, entries: &[String]) -> Result<u64, CacheError> {
        if entries.is_empty() {
            return self.list_len(key).await;
        }
        let mut stored = Vec::with_capacity(entries.len());
        for entry in entries {
            let body = entry_body(key, entry)?;
            stored.push(format!("{{{body}").into_boxed_str());
        }
        self.append_stored(key, Batch::Many(stored))
    }
}

/// The body of a stored entry: what follows its opening brace.
fn stored_body(stored: &str) -> &str {
    stored.get(1..).unwrap_or_default()
}

fn wrong_type(key: &str, expected: &'static str) -> CacheError {
    CacheError::WrongType {
        key: key.to_owned(),
        expected,
    }
}
