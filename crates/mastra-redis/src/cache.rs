//! `RedisServerCache`: the `ServerCache` contract on Redis, in `@mastra/redis`'s layout.

use std::time::Duration;

use async_trait::async_trait;
use fred::interfaces::{ClientLike, KeysInterface, ListInterface};
use fred::types::{CustomCommand, Expiration, Value as RedisValue};
use mastra_cache::{entry_body, CacheError, ServerCache, Ttl};
use serde_json::Value;

use crate::error::cache_error;
use crate::RedisConnection;

/// Keys deleted per `UNLINK` (and asked for per `SCAN` step) by [`ServerCache::clear`].
const CLEAR_BATCH: u32 = 500;

/// A [`ServerCache`] in Redis. Values are JSON strings, logs are lists whose elements are
/// the entries with `"index"` first (`mastra:cache:pubsub:agent.stream.<runId>`, with the
/// `:counter` key upstream uses kept in step). Every key is under the connection's key
/// prefix, and [`clear`](ServerCache::clear) deletes only keys under it.
#[derive(Debug, Clone)]
pub struct RedisServerCache {
    connection: RedisConnection,
    prefix: String,
    default_ttl: Option<Duration>,
}

impl RedisServerCache {
    /// A cache over `connection`, with its key prefix and default TTL.
    pub fn new(connection: RedisConnection) -> Self {
        let config = connection.config();
        let prefix = config.key_prefix.clone();
        let default_ttl = Ttl::from(config.default_ttl).resolve(None);
        Self {
            connection,
            prefix,
            default_ttl,
        }
    }

    /// The Redis key that holds `key`.
    pub fn redis_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The key prefix of this cache.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn ttl_millis(&self, ttl: Ttl) -> u64 {
        ttl.resolve(self.default_ttl).map_or(0, |ttl| {
            u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
        })
    }
}

#[async_trait]
impl ServerCache for RedisServerCache {
    async fn get(&self, key: &str) -> Result<Option<Value>, CacheError> {
        let full = self.redis_key(key);
        let raw: Option<String> = self
            .connection
            .with_retry(|client, _| client.get(&full))
            .await
            .map_err(|error| cache_error(key, "value", error))?;
        match raw {
            None => Ok(None),
            Some(raw) => Ok(Some(serde_json::from_str(&raw)?)),
        }
    }

    async fn set(&self, key: &str, value: Value, ttl: Ttl) -> Result<(), CacheError> {
        let full = self.redis_key(key);
        let json = serde_json::to_string(&value)?;
        let expiry = match self.ttl_millis(ttl) {
            0 => None,
            millis => Some(Expiration::PX(i64::try_from(millis).unwrap_or(i64::MAX))),
        };
        self.connection
            .with_retry(|client, _| {
                client.set::<(), _, _>(&full, json.as_str(), expiry.clone(), None, false)
            })
            .await
            .map_err(|error| cache_error(key, "value", error))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        // A log's `:counter` is part of the log (upstream's layout): it goes with it.
        let full = self.redis_key(key);
        let keys = vec![full.clone(), format!("{full}:counter")];
        self.connection
            .with_retry(|client, _| client.unlink::<(), _>(keys.clone()))
            .await
            .map_err(|error| cache_error(key, "value", error))
    }

    async fn clear(&self) -> Result<(), CacheError> {
        let pattern = format!("{}*", crate::protocol::glob_escape(&self.prefix));
        let mut cursor = String::from("0");
        loop {
            let reply: RedisValue = self
                .connection
                .with_retry(|client, _| {
                    let args: Vec<RedisValue> = vec![
                        cursor.as_str().into(),
                        "MATCH".into(),
                        pattern.as_str().into(),
                        "COUNT".into(),
                        CLEAR_BATCH.into(),
                    ];
                    client.custom(CustomCommand::new_static("SCAN", None, false), args)
                })
                .await
                .map_err(|error| cache_error(&self.prefix, "value", error))?;
            let (next, keys) = scan_page(reply)
                .ok_or_else(|| CacheError::backend("unexpected SCAN reply", false))?;
            if !keys.is_empty() {
                self.connection
                    .with_retry(|client, _| client.unlink::<(), _>(keys.clone()))
                    .await
                    .map_err(|error| cache_error(&self.prefix, "value", error))?;
            }
            if next == "0" {
                return Ok(());
            }
            cursor = next;
        }
    }

    async fn list_len(&self, key: &str) -> Result<u64, CacheError> {
        let full = self.redis_key(key);
        self.connection
            .with_retry(|client, _| client.llen(&full))
            .await
            .map_err(|error| cache_error(key, "list", error))
    }

    async fn list_range(
        &self,
        key: &str,
        start: u64,
        end: Option<u64>,
    ) -> Result<Vec<String>, CacheError> {
        if end.is_some_and(|end| end < start) {
            return Ok(Vec::new());
        }
        let full = self.redis_key(key);
        let start = i64::try_from(start).unwrap_or(i64::MAX);
        let stop = end.map_or(-1, |end| i64::try_from(end).unwrap_or(i64::MAX));
        self.connection
            .with_retry(|client, _| client.lrange(&full, start, stop))
            .await
            .map_err(|error| cache_error(key, "list", error))
    }

    async fn append_indexed(&self, key: &str, entry: &str) -> Result<u64, CacheError> {
        let body = entry_body(key, entry)?;
        let full = self.redis_key(key);
        let counter = format!("{full}:counter");
        let ttl = self.ttl_millis(Ttl::Default).to_string();
        let script = &self.connection.scripts().append;
        let index: RedisValue = self
            .connection
            .with_retry(|client, attempt| {
                let retry = if attempt > 0 { "1" } else { "0" };
                let keys = vec![full.clone(), counter.clone()];
                let args = vec![body, ttl.as_str(), retry];
                script.run(client, keys, args)
            })
            .await
            .map_err(|error| cache_error(key, "list", error))?;
        index
            .as_u64()
            .ok_or_else(|| CacheError::backend(format!("append returned {index:?}"), false))
    }

    /// One `EVALSHA` of the batch script: one round trip for the whole batch, entries
    /// byte-identical to single appends, and a retry after a lost reply writes nothing twice.
    async fn append_indexed_batch(&self, key: &str, entries: &[String]) -> Result<u64, CacheError> {
        let mut bodies = Vec::with_capacity(entries.len());
        for entry in entries {
            bodies.push(entry_body(key, entry)?);
        }
        let full = self.redis_key(key);
        let counter = format!("{full}:counter");
        let ttl = self.ttl_millis(Ttl::Default).to_string();
        let script = &self.connection.scripts().append_batch;
        let first: RedisValue = self
            .connection
            .with_retry(|client, attempt| {
                let retry = if attempt > 0 { "1" } else { "0" };
                let keys = vec![full.clone(), counter.clone()];
                let mut args = Vec::with_capacity(bodies.len() + 2);
                args.extend([ttl.as_str(), retry]);
                args.extend(bodies.iter().copied());
                script.run(client, keys, args)
            })
            .await
            .map_err(|error| cache_error(key, "list", error))?;
        first
            .as_u64()
            .ok_or_else(|| CacheError::backend(format!("batch append returned {first:?}"), false))
    }

    /// Every call is a round trip to Redis.
    fn prefers_batches(&self) -> bool {
        true
    }
}

/// `SCAN`'s reply: the next cursor and a page of keys.
fn scan_page(reply: RedisValue) -> Option<(String, Vec<String>)> {
    let RedisValue::Array(mut parts) = reply else {
        return None;
    };
    if parts.len() != 2 {
        return None;
    }
    let keys = parts.pop()?;
    let cursor = parts.pop()?.as_string()?;
    let RedisValue::Array(keys) = keys else {
        return None;
    };
    Some((
        cursor,
        keys.into_iter().filter_map(|key| key.as_string()).collect(),
    ))
}
