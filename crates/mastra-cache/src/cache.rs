//! The `ServerCache` contract: keyed JSON values with TTLs, and indexed append-only logs.

use std::fmt::{self, Write as _};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::CacheError;

/// How long a value lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ttl {
    /// The cache's configured default (300 s unless configured otherwise).
    #[default]
    Default,
    /// Never expires (it may still be evicted by a size cap).
    Never,
    /// Expires this long after being written.
    After(Duration),
}

impl From<Duration> for Ttl {
    /// A zero duration means "never expires", as upstream's `ttl: 0` does.
    fn from(duration: Duration) -> Self {
        if duration.is_zero() {
            Self::Never
        } else {
            Self::After(duration)
        }
    }
}

impl Ttl {
    /// The concrete lifetime given the cache's default (`None` = never expires).
    pub fn resolve(self, default: Option<Duration>) -> Option<Duration> {
        match self {
            Self::Default => default,
            Self::Never => None,
            Self::After(duration) if duration.is_zero() => None,
            Self::After(duration) => Some(duration),
        }
    }
}

/// A shared server-side cache: in process memory, or Redis in its own crate.
///
/// Lists exist only as logs: [`append_indexed`](Self::append_indexed) is the one way to add
/// to them, and it puts the entry's position into the entry itself, so an index can never
/// diverge from the position it names. Every log append refreshes the log's TTL.
#[async_trait]
pub trait ServerCache: Send + Sync + fmt::Debug {
    /// The value stored at `key`; `None` when missing or expired.
    async fn get(&self, key: &str) -> Result<Option<Value>, CacheError>;

    /// Stores `value` at `key` (replacing whatever was there) for `ttl`.
    async fn set(&self, key: &str, value: Value, ttl: Ttl) -> Result<(), CacheError>;

    /// Removes `key` (a value or a log); removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), CacheError>;

    /// Removes every key of this cache.
    async fn clear(&self) -> Result<(), CacheError>;

    /// How many entries the log at `key` holds (0 when missing or expired).
    async fn list_len(&self, key: &str) -> Result<u64, CacheError>;

    /// Entries `start..=end` of the log at `key` (to its end when `end` is `None`), each the
    /// appended JSON object with `"index":<position>` as its first field. Out-of-range
    /// bounds are clamped, as `LRANGE` does.
    async fn list_range(
        &self,
        key: &str,
        start: u64,
        end: Option<u64>,
    ) -> Result<Vec<String>, CacheError>;

    /// Appends `entry` (a JSON object without an `index` field) to the log at `key`,
    /// creating it when missing, and refreshes the log's TTL, all atomically. Returns the
    /// entry's position, which is also written into the stored entry as its first field.
    async fn append_indexed(&self, key: &str, entry: &str) -> Result<u64, CacheError>;

    /// [`append_indexed`](Self::append_indexed) for a caller that hands over its buffer,
    /// which a backend may keep as the stored entry instead of copying it.
    async fn append_indexed_owned(&self, key: &str, entry: String) -> Result<u64, CacheError> {
        self.append_indexed(key, &entry).await
    }

    /// Appends `entries` in order, as [`append_indexed`](Self::append_indexed) would one by
    /// one, and returns the position of the first (for an empty batch: the log's length,
    /// appending nothing). The entries take the positions `first..first + n`: backends
    /// append a batch atomically (one lock, one script), so that a producer pays one round
    /// trip for many events.
    ///
    /// The default implementation appends one entry at a time. It is only correct while
    /// nobody else appends to the same log meanwhile; should another writer's entry land in
    /// between, it fails (not retryable) rather than report positions it did not get.
    async fn append_indexed_batch(&self, key: &str, entries: &[String]) -> Result<u64, CacheError> {
        if entries.is_empty() {
            return self.list_len(key).await;
        }
        let mut first = None;
        for (offset, entry) in (0u64..).zip(entries) {
            let index = self.append_indexed(key, entry).await?;
            let first = *first.get_or_insert(index);
            if index != first + offset {
                return Err(CacheError::backend(
                    format!("another writer appended to `{key}` in the middle of a batch"),
                    false,
                ));
            }
        }
        Ok(first.unwrap_or_default())
    }

    /// Whether every call costs a round trip to a server, so that a producer with several
    /// entries for one log should hand them over as one [`append_indexed_batch`](Self::append_indexed_batch).
    /// The durable layer then groups a run's appends (write-behind with group commit); for
    /// a cache in process memory, where an append costs a microsecond, it does not.
    fn prefers_batches(&self) -> bool {
        false
    }
}

/// Splits a log entry into the part that follows its opening brace, checking that it is a
/// JSON object without a leading `index` field. Backends store or splice this body.
pub fn entry_body<'a>(key: &str, entry: &'a str) -> Result<&'a str, CacheError> {
    let invalid = |reason: &str| CacheError::InvalidEntry {
        key: key.to_owned(),
        reason: reason.to_owned(),
    };
    let body = entry
        .trim_start()
        .strip_prefix('{')
        .ok_or_else(|| invalid("not a JSON object"))?
        .trim_start();
    if body.starts_with("\"index\"") {
        return Err(invalid("the entry already has an index"));
    }
    if !body.trim_end().ends_with('}') {
        return Err(invalid("not a JSON object"));
    }
    Ok(body)
}

/// Writes the stored form of entry `index`: `{"index":<index>,` followed by its body.
pub fn indexed_entry(index: u64, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 24);
    // Writing into a String cannot fail.
    let _ = write!(out, "{{\"index\":{index}");
    if body.trim_start().starts_with('}') {
        out.push('}');
    } else {
        out.push(',');
        out.push_str(body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_get_their_index_spliced_in_first() {
        let body = entry_body("k", r#"{"type":"chunk","data":{}}"#).unwrap();
        assert_eq!(
            indexed_entry(7, body),
            r#"{"index":7,"type":"chunk","data":{}}"#
        );
        let empty = entry_body("k", "{}").unwrap();
        assert_eq!(indexed_entry(0, empty), r#"{"index":0}"#);
    }

    #[test]
    fn non_objects_and_indexed_entries_are_rejected() {
        assert!(entry_body("k", "[1]").is_err());
        assert!(entry_body("k", r#"{"index":1,"a":2}"#).is_err());
        assert!(entry_body("k", r#"{"a":2"#).is_err());
    }

    #[test]
    fn zero_means_never() {
        assert_eq!(Ttl::from(Duration::ZERO), Ttl::Never);
        let default = Some(Duration::from_secs(300));
        assert_eq!(Ttl::Default.resolve(default), default);
        assert_eq!(Ttl::Default.resolve(None), None);
        assert_eq!(Ttl::After(Duration::ZERO).resolve(default), None);
    }
}
