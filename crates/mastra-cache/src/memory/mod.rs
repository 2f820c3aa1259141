//! `InMemoryServerCache`: the process-local cache, on moka.

mod slot;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::ops::compute::Op;
use moka::policy::EvictionPolicy;
use serde_json::Value;

use crate::cache::{entry_body, indexed_entry};
use crate::{CacheError, ServerCache, Ttl};
use slot::{lock, Slot, SlotExpiry, Stored};

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
        let entries = moka::sync::Cache::builder()
            .max_capacity(options.max_keys)
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(SlotExpiry)
            .build();
        Self { entries, options }
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
        match self.entries.get(key) {
            None => Ok(None),
            Some(slot) => match &slot.stored {
                Stored::Value(value) => Ok(Some(value.clone())),
                Stored::Log(_) => Err(wrong_type(key, "value")),
            },
        }
    }

    async fn set(&self, key: &str, value: Value, ttl: Ttl) -> Result<(), CacheError> {
        let slot = Slot::value(value, ttl.resolve(self.default_ttl()));
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
        match self.entries.get(key) {
            None => Ok(0),
            Some(slot) => match &slot.stored {
                Stored::Log(log) => Ok(lock(log).len() as u64),
                Stored::Value(_) => Err(wrong_type(key, "list")),
            },
        }
    }

    async fn list_range(&self, key: &str, start: u64, end: Option<u64>) -> Result<Vec<String>, CacheError> {
        let Some(slot) = self.entries.get(key) else {
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
            .map(|(index, body)| indexed_entry(index, body))
            .collect())
    }

    async fn append_indexed(&self, key: &str, entry: &str) -> Result<u64, CacheError> {
        let body = entry_body(key, entry)?;
        let ttl = self.default_ttl();
        let mut outcome = Ok(0);
        let mut created = false;
        // One compute per key is serialized by moka: allocate the position, push, and put
        // the slot back (a write, which refreshes the TTL) as one atomic step.
        self.entries.entry_by_ref(key).and_compute_with(|existing| match existing {
            None => {
                created = true;
                Op::Put(Slot::log(body, ttl))
            }
            Some(entry) => {
                let slot = entry.into_value();
                match &slot.stored {
                    Stored::Log(log) => {
                        let mut log = lock(log);
                        outcome = Ok(log.len() as u64);
                        log.push(body.into());
                        drop(log);
                        Op::Put(slot)
                    }
                    Stored::Value(_) => {
                        outcome = Err(wrong_type(key, "list"));
                        Op::Nop
                    }
                }
            }
        });
        if created {
            self.enforce_cap();
        }
        outcome
    }
}

fn wrong_type(key: &str, expected: &'static str) -> CacheError {
    CacheError::WrongType {
        key: key.to_owned(),
        expected,
    }
}
