//! `RedisLeases`: run-ownership leases in Redis, fenced by a generation counter.

use std::time::Duration;

use async_trait::async_trait;
use fred::interfaces::KeysInterface;
use fred::types::Value;
use mastra_pubsub::{Lease, LeaseProvider, PubSubError};

use crate::error::pubsub_error;
use crate::RedisConnection;

/// How long a key's generation counter outlives its last claim. Generations must never go
/// back while anyone may still hold work stamped with an old one; a week is far beyond any
/// run's lifetime, and keeps Redis from collecting counters of long-gone runs forever.
pub const GENERATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// [`LeaseProvider`] over Redis. The lease of `key` is the string `<key prefix>lease:<key>`
/// holding the owner, with a `PX` expiry; `<key prefix>lease:<key>:generation` counts
/// claims. Acquire, renew and release are Lua scripts, so only the holder can renew or
/// release and a new claim raises the generation in the same atomic step.
#[derive(Debug, Clone)]
pub struct RedisLeases {
    connection: RedisConnection,
}

impl RedisLeases {
    /// Leases over `connection`, under its key prefix.
    pub fn new(connection: RedisConnection) -> Self {
        Self { connection }
    }

    /// The Redis key of the lease on `key`.
    pub fn lease_key(&self, key: &str) -> String {
        format!("{}lease:{key}", self.connection.config().key_prefix)
    }

    /// The Redis key of `key`'s generation counter.
    pub(crate) fn generation_key(&self, key: &str) -> String {
        format!("{}:generation", self.lease_key(key))
    }

    /// The Redis server (URL, database included) the leases live in.
    pub(crate) fn url(&self) -> &str {
        &self.connection.config().url
    }
}

pub(crate) fn millis(duration: Duration) -> String {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
        .to_string()
}

#[async_trait]
impl LeaseProvider for RedisLeases {
    async fn acquire(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, PubSubError> {
        let keys = vec![self.lease_key(key), self.generation_key(key)];
        let args = vec![owner.to_owned(), millis(ttl), millis(GENERATION_TTL)];
        let script = &self.connection.scripts().lease_acquire;
        let reply = script
            .run(self.connection.client(), keys, args)
            .await
            .map_err(pubsub_error)?;
        match reply {
            Value::Null => Ok(None),
            generation => {
                let generation = generation.as_u64().ok_or_else(|| {
                    PubSubError::backend(format!("lease acquire returned {generation:?}"), false)
                })?;
                Ok(Some(Lease::new(key, owner, generation, ttl)))
            }
        }
    }

    async fn renew(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, PubSubError> {
        let script = &self.connection.scripts().lease_renew;
        let args = vec![owner.to_owned(), millis(ttl)];
        let reply = script
            .run(self.connection.client(), self.lease_key(key), args)
            .await
            .map_err(pubsub_error)?;
        Ok(reply.as_u64() == Some(1))
    }

    async fn release(&self, key: &str, owner: &str) -> Result<bool, PubSubError> {
        let script = &self.connection.scripts().lease_release;
        let reply = script
            .run(self.connection.client(), self.lease_key(key), owner)
            .await
            .map_err(pubsub_error)?;
        Ok(reply.as_u64() == Some(1))
    }

    async fn owner(&self, key: &str) -> Result<Option<String>, PubSubError> {
        self.connection
            .client()
            .get(self.lease_key(key))
            .await
            .map_err(pubsub_error)
    }

    /// A `RedisWorkflowStore` on the same Redis takes and gives back these leases in its
    /// own scripts.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
