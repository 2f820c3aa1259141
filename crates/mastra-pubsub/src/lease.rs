//! Run-ownership leases: at most one owner per key at a time, with expiry and a fencing
//! generation that rises with every new claim.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::PubSubError;

/// A lease held by `owner` on `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    /// What is leased (e.g. a run id).
    pub key: String,
    /// Who holds it.
    pub owner: String,
    /// Fencing token: raised each time the key is claimed by a new holder (a re-acquire by
    /// the current holder keeps it). Work stamped with an older generation is stale.
    pub generation: u64,
    /// How long the lease lasts unless renewed.
    pub ttl: Duration,
}

impl Lease {
    /// Describes a lease (for backends).
    pub fn new(
        key: impl Into<String>,
        owner: impl Into<String>,
        generation: u64,
        ttl: Duration,
    ) -> Self {
        Self {
            key: key.into(),
            owner: owner.into(),
            generation,
            ttl,
        }
    }
}

/// Leases over some shared store (process memory, Redis, ...).
#[async_trait]
pub trait LeaseProvider: Send + Sync + fmt::Debug {
    /// Takes `key` for `owner` for `ttl` when it is free, expired or already held by `owner`
    /// (then it is extended). `None` when another owner holds an unexpired lease.
    async fn acquire(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, PubSubError>;

    /// Extends `owner`'s lease on `key` by `ttl` from now; `false` when `owner` no longer holds it.
    async fn renew(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, PubSubError>;

    /// Gives up `owner`'s lease on `key`; `false` when `owner` did not hold it.
    async fn release(&self, key: &str, owner: &str) -> Result<bool, PubSubError>;

    /// The current holder of an unexpired lease on `key`.
    async fn owner(&self, key: &str) -> Result<Option<String>, PubSubError>;

    /// The provider itself, for a store of the same backend that can take or give back a
    /// lease in the same operation as its own read or write (one round trip instead of
    /// two). `None` by default: the lease is then always asked for on its own.
    fn as_any(&self) -> Option<&dyn Any> {
        None
    }
}
