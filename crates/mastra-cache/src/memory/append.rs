//! Appending to an in-memory log: one entry or a batch, under the log's lock.

use std::time::Instant;

use moka::ops::compute::Op;

use super::slot::{lock, Slot, Stored};
use super::{wrong_type, InMemoryServerCache};
use crate::CacheError;

/// Stored entries (`{` followed by the body) to append in order.
pub(super) enum Batch {
    /// The common case, spared a vector.
    One(Box<str>),
    /// A non-empty batch.
    Many(Vec<Box<str>>),
}

impl Batch {
    /// Pushes the entries and returns the position of the first.
    fn push_into(self, log: &mut Vec<Box<str>>) -> u64 {
        let first = log.len() as u64;
        match self {
            Self::One(entry) => log.push(entry),
            Self::Many(entries) => log.extend(entries),
        }
        first
    }

    fn into_vec(self) -> Vec<Box<str>> {
        match self {
            Self::One(entry) => vec![entry],
            Self::Many(entries) => entries,
        }
    }
}

impl InMemoryServerCache {
    pub(super) fn append_stored(&self, key: &str, batch: Batch) -> Result<u64, CacheError> {
        if let Some(slot) = self.entries.get(key) {
            if slot.is_live(self.epoch, Instant::now()) {
                return self.append_to(key, &slot, batch);
            }
        }
        self.create_or_append(key, batch)
    }

    /// The common case: the log exists. Its mutex makes "position = length, then push"
    /// atomic, and moving the slot's deadline refreshes the TTL without a moka write.
    fn append_to(&self, key: &str, slot: &Slot, batch: Batch) -> Result<u64, CacheError> {
        let Stored::Log(log) = &slot.stored else {
            return Err(wrong_type(key, "list"));
        };
        let first = batch.push_into(&mut lock(log));
        slot.refresh(self.epoch);
        Ok(first)
    }

    /// The first append (or one racing another first append, or one after the log
    /// expired): moka serializes computes per key, so exactly one of them creates the log.
    fn create_or_append(&self, key: &str, batch: Batch) -> Result<u64, CacheError> {
        let ttl = self.default_ttl();
        let mut outcome = Ok(0);
        let mut created = false;
        let now = Instant::now();
        self.entries
            .entry_by_ref(key)
            .and_compute_with(|existing| match existing {
                Some(entry) if entry.value().is_live(self.epoch, now) => {
                    outcome = self.append_to(key, entry.value(), batch);
                    Op::Nop
                }
                _ => {
                    created = true;
                    Op::Put(Slot::log(self.epoch, batch.into_vec(), ttl))
                }
            });
        if created {
            self.enforce_cap();
        }
        outcome
    }
}
