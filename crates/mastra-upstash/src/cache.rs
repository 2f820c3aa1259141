//! `UpstashServerCache`: the `ServerCache` contract over the Upstash REST API, in the same
//! Redis layout as `mastra-redis`'s `RedisServerCache` (and upstream's `@mastra/redis`).

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use mastra_cache::{entry_body, CacheError, ServerCache, Ttl};
use mastra_redis::RetryPolicy;
use serde_json::Value;

use crate::error::{cache_error, shorten};
use crate::{UpstashConfig, UpstashError, UpstashRest};
use mastra_redis::protocol::{
    glob_escape, APPEND_BATCH_SCRIPT as APPEND_BATCH, APPEND_SCRIPT as APPEND,
};

/// Keys asked for per `SCAN` step by [`ServerCache::clear`].
const CLEAR_BATCH: &str = "500";

/// A [`ServerCache`] in an Upstash database, reached over HTTPS only (for environments
/// without outbound TCP: edge functions, some serverless platforms).
///
/// Values are JSON strings (`SET ... PX`); logs are lists whose elements are the entries
/// with `"index"` first, appended by one `EVAL` of the same script `mastra-redis` runs
/// (index = `LLEN`, `RPUSH`, `:counter` kept in step, both keys' TTL refreshed), so a log
/// written here is byte for byte the log `RedisServerCache` writes, and each reads the
/// other's. Every key is under the key prefix, and [`clear`](ServerCache::clear) deletes
/// only keys under it (`SCAN MATCH` + `DEL`, never `FLUSHDB`).
///
/// Requests that fail retryably (Upstash unreachable, a timeout, HTTP 429 or 5xx) are
/// retried per [`UpstashConfig::retry`]; a retried append cannot duplicate its entry (the
/// script checks whether the lost attempt landed). After the last try they fail with the
/// retryable [`CacheError::Unavailable`]; anything else (a refused token, a malformed or
/// oversized answer) fails at once with a terminal [`CacheError::Backend`] whose source is
/// an [`UpstashError`].
#[derive(Debug, Clone)]
pub struct UpstashServerCache {
    rest: UpstashRest,
    prefix: String,
    default_ttl: Option<Duration>,
    retry: RetryPolicy,
}

impl UpstashServerCache {
    /// A cache over the database `config` names. Does not contact it (the first request
    /// tells whether the URL and token are right).
    pub fn new(config: UpstashConfig) -> Result<Self, UpstashError> {
        let rest = UpstashRest::new(&config)?;
        Ok(Self {
            rest,
            prefix: config.key_prefix,
            default_ttl: Ttl::from(config.default_ttl).resolve(None),
            retry: config.retry,
        })
    }

    /// A cache over the database named by `UPSTASH_REDIS_REST_URL` and
    /// `UPSTASH_REDIS_REST_TOKEN`, with the default settings.
    pub fn from_env() -> Result<Self, UpstashError> {
        Self::new(UpstashConfig::from_env()?)
    }

    /// The Redis key that holds `key`.
    pub fn redis_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The key prefix of this cache.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The REST client, for commands of your own.
    pub fn rest(&self) -> &UpstashRest {
        &self.rest
    }

    fn ttl_millis(&self, ttl: Ttl) -> u64 {
        ttl.resolve(self.default_ttl).map_or(0, |ttl| {
            u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
        })
    }

    /// Runs `request` (given the 0-based attempt) until it succeeds, fails terminally, or
    /// the retry policy is spent.
    async fn with_retry<T, F, Fut>(&self, what: &str, mut request: F) -> Result<T, UpstashError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, UpstashError>>,
    {
        let mut attempt = 0;
        loop {
            match request(attempt).await {
                Err(error) if error.is_retryable() && attempt + 1 < self.retry.attempts => {
                    tracing::debug!(what, attempt, %error, "Upstash request failed; retrying");
                    tokio::time::sleep(backoff(&self.retry, attempt)).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    async fn command(&self, args: &[&str]) -> Result<Value, UpstashError> {
        self.with_retry(args.first().copied().unwrap_or_default(), |_| {
            self.rest.command(args)
        })
        .await
    }
}

/// The wait before try number `attempt + 2`, doubling from the first backoff to the cap.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    policy
        .initial_backoff
        .saturating_mul(1u32 << attempt.min(16))
        .min(policy.max_backoff)
}

#[async_trait]
impl ServerCache for UpstashServerCache {
    async fn get(&self, key: &str) -> Result<Option<Value>, CacheError> {
        let full = self.redis_key(key);
        let reply = self
            .command(&["GET", &full])
            .await
            .map_err(|error| cache_error(key, "value", error))?;
        match reply {
            Value::Null => Ok(None),
            Value::String(raw) => Ok(Some(serde_json::from_str(&raw)?)),
            other => Err(unexpected("GET", &other)),
        }
    }

    async fn set(&self, key: &str, value: Value, ttl: Ttl) -> Result<(), CacheError> {
        let full = self.redis_key(key);
        let json = serde_json::to_string(&value)?;
        let millis = self.ttl_millis(ttl).to_string();
        let args: &[&str] = if millis == "0" {
            &["SET", &full, &json]
        } else {
            &["SET", &full, &json, "PX", &millis]
        };
        self.command(args)
            .await
            .map_err(|error| cache_error(key, "value", error))?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        // A log's `:counter` is part of the log (upstream's layout): it goes with it.
        let full = self.redis_key(key);
        let counter = format!("{full}:counter");
        self.command(&["DEL", &full, &counter])
            .await
            .map_err(|error| cache_error(key, "value", error))?;
        Ok(())
    }

    async fn clear(&self) -> Result<(), CacheError> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        let scan = |cursor: &str| -> [String; 6] {
            [
                "SCAN".into(),
                cursor.into(),
                "MATCH".into(),
                pattern.clone(),
                "COUNT".into(),
                CLEAR_BATCH.into(),
            ]
        };
        let failed = |error| cache_error(&self.prefix, "value", error);
        let first = scan("0");
        let first: Vec<&str> = first.iter().map(String::as_str).collect();
        let mut page = scan_page(self.command(&first).await.map_err(failed)?)?;
        loop {
            let (cursor, keys) = page;
            let mut delete: Vec<&str> = vec!["DEL"];
            delete.extend(keys.iter().map(String::as_str));
            if cursor == "0" {
                if !keys.is_empty() {
                    self.command(&delete).await.map_err(failed)?;
                }
                return Ok(());
            }
            let next = scan(&cursor);
            let next: Vec<&str> = next.iter().map(String::as_str).collect();
            if keys.is_empty() {
                page = scan_page(self.command(&next).await.map_err(failed)?)?;
                continue;
            }
            // One round trip: delete this page and ask for the next one.
            let commands: [&[&str]; 2] = [&delete, &next];
            let replies = self
                .with_retry("clear", |_| self.rest.pipeline(&commands))
                .await
                .map_err(failed)?;
            let mut replies = replies.into_iter();
            match (replies.next(), replies.next()) {
                (Some(deleted), Some(scanned)) => {
                    deleted.map_err(failed)?;
                    page = scan_page(scanned.map_err(failed)?)?;
                }
                _ => return Err(CacheError::backend("a pipeline lost its answers", false)),
            }
        }
    }

    async fn list_len(&self, key: &str) -> Result<u64, CacheError> {
        let full = self.redis_key(key);
        let reply = self
            .command(&["LLEN", &full])
            .await
            .map_err(|error| cache_error(key, "list", error))?;
        reply.as_u64().ok_or_else(|| unexpected("LLEN", &reply))
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
        let start = i64::try_from(start).unwrap_or(i64::MAX).to_string();
        let stop = end
            .map_or(-1, |end| i64::try_from(end).unwrap_or(i64::MAX))
            .to_string();
        let reply = self
            .command(&["LRANGE", &full, &start, &stop])
            .await
            .map_err(|error| cache_error(key, "list", error))?;
        strings(reply).map_err(|other| unexpected("LRANGE", &other))
    }

    async fn append_indexed(&self, key: &str, entry: &str) -> Result<u64, CacheError> {
        let body = entry_body(key, entry)?;
        let full = self.redis_key(key);
        let counter = format!("{full}:counter");
        let ttl = self.ttl_millis(Ttl::Default).to_string();
        let reply = self
            .with_retry("EVAL", |attempt| {
                let retry = if attempt > 0 { "1" } else { "0" };
                let args = ["EVAL", APPEND, "2", &full, &counter, body, &ttl, retry];
                async move { self.rest.command(&args).await }
            })
            .await
            .map_err(|error| cache_error(key, "list", error))?;
        reply.as_u64().ok_or_else(|| unexpected("EVAL", &reply))
    }

    /// One `EVAL` of `mastra-redis`'s batch script: one request for the whole batch, the
    /// entries byte-identical to single appends, retry-safe like them.
    async fn append_indexed_batch(&self, key: &str, entries: &[String]) -> Result<u64, CacheError> {
        let bodies = entries
            .iter()
            .map(|entry| entry_body(key, entry))
            .collect::<Result<Vec<_>, _>>()?;
        let full = self.redis_key(key);
        let counter = format!("{full}:counter");
        let ttl = self.ttl_millis(Ttl::Default).to_string();
        let reply = self
            .with_retry("EVAL", |attempt| {
                let retry = if attempt > 0 { "1" } else { "0" };
                let mut args = vec!["EVAL", APPEND_BATCH, "2", &full, &counter, &ttl, retry];
                args.extend(bodies.iter().copied());
                async move { self.rest.command(&args).await }
            })
            .await
            .map_err(|error| cache_error(key, "list", error))?;
        reply.as_u64().ok_or_else(|| unexpected("EVAL", &reply))
    }

    /// Every call is an HTTPS request.
    fn prefers_batches(&self) -> bool {
        true
    }
}

/// A reply of the wrong JSON type: a malformed response.
fn unexpected(command: &str, reply: &Value) -> CacheError {
    CacheError::backend(
        UpstashError::Malformed(format!(
            "`{command}` returned {}",
            shorten(&reply.to_string(), 200)
        )),
        false,
    )
}

/// An array of strings, or the value as it came.
fn strings(reply: Value) -> Result<Vec<String>, Value> {
    let Value::Array(items) = reply else {
        return Err(reply);
    };
    if !items.iter().all(Value::is_string) {
        return Err(Value::Array(items));
    }
    Ok(items
        .into_iter()
        .filter_map(|item| match item {
            Value::String(text) => Some(text),
            _ => None,
        })
        .collect())
}

/// `SCAN`'s reply: the next cursor (a string, or a number) and a page of keys.
fn scan_page(reply: Value) -> Result<(String, Vec<String>), CacheError> {
    let page = match &reply {
        Value::Array(parts) if parts.len() == 2 => {
            let cursor = match &parts[0] {
                Value::String(cursor) => Some(cursor.clone()),
                Value::Number(cursor) => Some(cursor.to_string()),
                _ => None,
            };
            cursor.zip(strings(parts[1].clone()).ok())
        }
        _ => None,
    };
    page.ok_or_else(|| unexpected("SCAN", &reply))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scan_pages_are_read_strictly() {
        assert_eq!(
            scan_page(json!(["17", ["a", "b"]])).unwrap(),
            ("17".to_owned(), vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(scan_page(json!([0, []])).unwrap().0, "0");
        for bad in [
            json!("0"),
            json!(["0"]),
            json!(["0", [1]]),
            json!([null, []]),
        ] {
            let error = scan_page(bad).unwrap_err();
            assert!(!error.is_retryable());
            assert!(error.to_string().contains("malformed"), "{error}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::new(5, Duration::from_millis(10), Duration::from_millis(35));
        assert_eq!(backoff(&policy, 0), Duration::from_millis(10));
        assert_eq!(backoff(&policy, 1), Duration::from_millis(20));
        assert_eq!(backoff(&policy, 2), Duration::from_millis(35));
    }
}
