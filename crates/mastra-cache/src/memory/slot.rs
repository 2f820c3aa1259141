//! What the in-memory cache stores under one key, and how long it lives.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use moka::Expiry;
use serde_json::Value;

/// The content of one key: a plain value or a log, with its lifetime.
#[derive(Debug)]
pub(crate) struct Slot {
    /// `None` = never expires.
    pub(crate) ttl: Option<Duration>,
    pub(crate) stored: Stored,
}

#[derive(Debug)]
pub(crate) enum Stored {
    Value(Value),
    /// Log entries without their leading `{"index":N,`: the index is the position, so it is
    /// spliced back in on read instead of being stored (and so it cannot disagree).
    Log(Mutex<Vec<Box<str>>>),
}

impl Slot {
    pub(crate) fn value(value: Value, ttl: Option<Duration>) -> Arc<Self> {
        Arc::new(Self {
            ttl,
            stored: Stored::Value(value),
        })
    }

    pub(crate) fn log(first_body: &str, ttl: Option<Duration>) -> Arc<Self> {
        Arc::new(Self {
            ttl,
            stored: Stored::Log(Mutex::new(vec![first_body.into()])),
        })
    }
}

/// Locks a log, ignoring poisoning: an append either pushed its entry or did not.
pub(crate) fn lock(log: &Mutex<Vec<Box<str>>>) -> MutexGuard<'_, Vec<Box<str>>> {
    log.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Each key lives for its slot's TTL from its last write; reads do not extend it. A log
/// append is a write (the slot is put back), so it refreshes the log's TTL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotExpiry;

impl Expiry<String, Arc<Slot>> for SlotExpiry {
    fn expire_after_create(&self, _key: &String, slot: &Arc<Slot>, _created_at: Instant) -> Option<Duration> {
        slot.ttl
    }

    fn expire_after_update(
        &self,
        _key: &String,
        slot: &Arc<Slot>,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        slot.ttl
    }
}
