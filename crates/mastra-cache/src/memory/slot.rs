//! What the in-memory cache stores under one key, and how long it lives.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use moka::Expiry;
use serde_json::Value;

/// The content of one key: a plain value or a log, with its lifetime.
#[derive(Debug)]
pub(crate) struct Slot {
    /// `None` = never expires.
    ttl: Option<Duration>,
    /// When the key expires, in nanoseconds after the cache's epoch. This is the key's real
    /// lifetime, checked on every access; a log append moves it without a moka write
    /// (which costs a microsecond).
    deadline: AtomicU64,
    pub(crate) stored: Stored,
}

#[derive(Debug)]
pub(crate) enum Stored {
    Value(Value),
    /// Log entries as `{` followed by the entry's body, without `"index":N,`: the index is
    /// the position, so it is spliced back in on read instead of being stored (and so it
    /// cannot disagree).
    Log(Mutex<Vec<Box<str>>>),
}

/// The cache's reference point for deadlines.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epoch(Instant);

impl Epoch {
    pub(crate) fn now() -> Self {
        Self(Instant::now())
    }

    fn nanos_at(self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.0).as_nanos()).unwrap_or(u64::MAX)
    }

    fn deadline_after(self, ttl: Option<Duration>, from: Instant) -> u64 {
        match ttl {
            None => u64::MAX,
            Some(ttl) => self
                .nanos_at(from)
                .saturating_add(u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX)),
        }
    }
}

impl Slot {
    pub(crate) fn value(epoch: Epoch, value: Value, ttl: Option<Duration>) -> Arc<Self> {
        Self::new(epoch, ttl, Stored::Value(value))
    }

    pub(crate) fn log(epoch: Epoch, entries: Vec<Box<str>>, ttl: Option<Duration>) -> Arc<Self> {
        Self::new(epoch, ttl, Stored::Log(Mutex::new(entries)))
    }

    fn new(epoch: Epoch, ttl: Option<Duration>, stored: Stored) -> Arc<Self> {
        Arc::new(Self {
            ttl,
            deadline: AtomicU64::new(epoch.deadline_after(ttl, Instant::now())),
            stored,
        })
    }

    /// Restarts the key's TTL from now.
    pub(crate) fn refresh(&self, epoch: Epoch) {
        let deadline = epoch.deadline_after(self.ttl, Instant::now());
        self.deadline.fetch_max(deadline, Ordering::Relaxed);
    }

    /// Whether the key is still alive at `at`.
    pub(crate) fn is_live(&self, epoch: Epoch, at: Instant) -> bool {
        self.deadline.load(Ordering::Relaxed) > epoch.nanos_at(at)
    }

    /// How long moka keeps the slot after an access: past any deadline an append made
    /// right after that access could set, so moka never drops a live key (it only frees
    /// memory; the deadline decides what is alive).
    fn retention(&self) -> Option<Duration> {
        self.ttl.map(|ttl| ttl.saturating_add(RETENTION_SLACK))
    }
}

/// How much longer than its TTL moka retains a slot after an access.
const RETENTION_SLACK: Duration = Duration::from_secs(1);

/// Locks a log, ignoring poisoning: an append either pushed its entry or did not.
pub(crate) fn lock(log: &Mutex<Vec<Box<str>>>) -> MutexGuard<'_, Vec<Box<str>>> {
    log.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Moka retains each slot for its TTL (plus slack) after every access, as a collector of
/// expired keys; whether a key is alive is its slot's deadline (see [`Slot::is_live`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotExpiry;

impl Expiry<String, Arc<Slot>> for SlotExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        slot: &Arc<Slot>,
        _created_at: Instant,
    ) -> Option<Duration> {
        slot.retention()
    }

    fn expire_after_read(
        &self,
        _key: &String,
        slot: &Arc<Slot>,
        _read_at: Instant,
        _duration_until_expiry: Option<Duration>,
        _last_modified_at: Instant,
    ) -> Option<Duration> {
        slot.retention()
    }

    fn expire_after_update(
        &self,
        _key: &String,
        slot: &Arc<Slot>,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        slot.retention()
    }
}
