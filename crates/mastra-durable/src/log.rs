//! The run log: each topic's events in a [`ServerCache`] list, indexed by position.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mastra_cache::ServerCache;
use mastra_pubsub::Event;

use crate::DurableError;

/// Reads and writes the per-topic event logs kept in a [`ServerCache`].
///
/// The log of `topic` is the list at `<key_prefix><topic>` (so with the default prefix and
/// Redis's own `mastra:cache:`, `mastra:cache:pubsub:agent.stream.<runId>`, as upstream).
#[derive(Debug, Clone)]
pub struct RunLog {
    cache: Arc<dyn ServerCache>,
    key_prefix: Arc<str>,
    /// The size of the last entry written, as the first guess for the next one's buffer.
    size_hint: Arc<AtomicUsize>,
}

impl RunLog {
    /// A log view over `cache` whose keys start with `key_prefix`.
    pub fn new(cache: Arc<dyn ServerCache>, key_prefix: &str) -> Self {
        Self {
            cache,
            key_prefix: key_prefix.into(),
            size_hint: Arc::new(AtomicUsize::new(MIN_BUFFER)),
        }
    }

    /// The cache holding the logs.
    pub fn cache(&self) -> &Arc<dyn ServerCache> {
        &self.cache
    }

    /// The cache key of `topic`'s log.
    pub fn key(&self, topic: &str) -> String {
        crate::topics::concat(&self.key_prefix, topic)
    }

    /// The key of the index counter upstream keeps next to a log (ours needs none, but
    /// clearing removes it so a shared Redis holds nothing stale).
    pub fn counter_key(&self, topic: &str) -> String {
        format!("{}{topic}:counter", self.key_prefix)
    }

    /// Appends `event` (whose own `index` is ignored) and returns the index it was given:
    /// its position in the log.
    pub async fn append(&self, topic: &str, event: &Event) -> Result<u64, DurableError> {
        let json = self.entry(event);
        // The buffer becomes the stored entry where the backend can keep it.
        Ok(self
            .cache
            .append_indexed_owned(&self.key(topic), json)
            .await?)
    }

    /// The log entry of `event` (whose own `index` is left out).
    pub(crate) fn entry(&self, event: &Event) -> String {
        let hint = self.size_hint.load(Ordering::Relaxed);
        let json = if event.index.is_some() {
            let mut unindexed = event.clone();
            unindexed.index = None;
            encode(&unindexed, hint)
        } else {
            encode(event, hint)
        };
        self.size_hint
            .store(json.len().max(MIN_BUFFER), Ordering::Relaxed);
        json
    }

    /// Appends entries made by [`entry`](Self::entry) at consecutive positions, in one
    /// call of the cache; returns the first position.
    pub(crate) async fn append_entries(
        &self,
        topic: &str,
        entries: &[String],
    ) -> Result<u64, DurableError> {
        Ok(self
            .cache
            .append_indexed_batch(&self.key(topic), entries)
            .await?)
    }

    /// Where `entries` already sit as the log's last entries (a batch whose append failed
    /// from our side but landed), so that a retry does not write them twice.
    pub(crate) async fn find_tail(
        &self,
        topic: &str,
        entries: &[String],
    ) -> Result<Option<u64>, DurableError> {
        let n = entries.len() as u64;
        let len = self.len(topic).await?;
        if n == 0 || len < n {
            return Ok(None);
        }
        let first = len - n;
        let stored = self.read_raw(topic, first, None).await?;
        let same = stored.len() == entries.len()
            && (first..)
                .zip(stored.iter().zip(entries))
                .all(|(index, (stored, entry))| {
                    mastra_cache::entry_body(topic, entry)
                        .is_ok_and(|body| *stored == mastra_cache::indexed_entry(index, body))
                });
        Ok(same.then_some(first))
    }

    /// How many events the log of `topic` holds (0 when it is missing or expired).
    pub async fn len(&self, topic: &str) -> Result<u64, DurableError> {
        Ok(self.cache.list_len(&self.key(topic)).await?)
    }

    /// The raw JSON of events `from..=to` (to the end when `to` is `None`).
    pub async fn read_raw(
        &self,
        topic: &str,
        from: u64,
        to: Option<u64>,
    ) -> Result<Vec<String>, DurableError> {
        Ok(self.cache.list_range(&self.key(topic), from, to).await?)
    }

    /// Events `from..=to` (to the end when `to` is `None`), checked against their positions.
    pub async fn read(
        &self,
        topic: &str,
        from: u64,
        to: Option<u64>,
    ) -> Result<Vec<Event>, DurableError> {
        let raw = self.read_raw(topic, from, to).await?;
        (from..)
            .zip(raw.iter())
            .map(|(position, raw)| parse_entry(topic, position, raw))
            .collect()
    }

    /// Removes the log of `topic` (and upstream's counter key).
    pub async fn clear(&self, topic: &str) -> Result<(), DurableError> {
        self.cache.delete(&self.key(topic)).await?;
        self.cache.delete(&self.counter_key(topic)).await?;
        Ok(())
    }
}

/// The smallest buffer an entry is encoded into (a typical envelope fits).
const MIN_BUFFER: usize = 384;

/// Serializes an event into a buffer sized after the previous entry of the log (plus some
/// slack), sparing the regrowth of a small default buffer.
fn encode(event: &Event, size_hint: usize) -> String {
    let mut out = String::with_capacity(size_hint.saturating_add(size_hint / 8).min(1 << 20));
    event.write_json(&mut out);
    out
}

/// Parses the log entry stored at `position`, which must carry that index.
pub(crate) fn parse_entry(topic: &str, position: u64, raw: &str) -> Result<Event, DurableError> {
    let corrupt = |reason: String| DurableError::CorruptLog {
        topic: topic.to_owned(),
        position,
        reason,
    };
    let event: Event = serde_json::from_str(raw).map_err(|error| corrupt(error.to_string()))?;
    match event.index {
        Some(index) if index == position => Ok(event),
        other => Err(corrupt(format!("it carries index {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_must_carry_the_index_of_its_position() {
        let raw = r#"{"index":4,"type":"chunk","runId":"r","data":{},"id":"i","createdAt":"2026-11-29T16:00:00.000Z"}"#;
        assert_eq!(
            parse_entry("t", 4, raw).map(|e| e.index).ok(),
            Some(Some(4))
        );
        assert!(matches!(
            parse_entry("t", 5, raw),
            Err(DurableError::CorruptLog { position: 5, .. })
        ));
        assert!(matches!(
            parse_entry("t", 0, "{"),
            Err(DurableError::CorruptLog { .. })
        ));
    }
}
