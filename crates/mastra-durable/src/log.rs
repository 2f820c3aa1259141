//! The run log: each topic's events in a [`ServerCache`] list, indexed by position.

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
}

impl RunLog {
    /// A log view over `cache` whose keys start with `key_prefix`.
    pub fn new(cache: Arc<dyn ServerCache>, key_prefix: &str) -> Self {
        Self {
            cache,
            key_prefix: key_prefix.into(),
        }
    }

    /// The cache holding the logs.
    pub fn cache(&self) -> &Arc<dyn ServerCache> {
        &self.cache
    }

    /// The cache key of `topic`'s log.
    pub fn key(&self, topic: &str) -> String {
        format!("{}{topic}", self.key_prefix)
    }

    /// The key of the index counter upstream keeps next to a log (ours needs none, but
    /// clearing removes it so a shared Redis holds nothing stale).
    pub fn counter_key(&self, topic: &str) -> String {
        format!("{}{topic}:counter", self.key_prefix)
    }

    /// Appends `event` (whose own `index` is ignored) and returns the index it was given:
    /// its position in the log.
    pub async fn append(&self, topic: &str, event: &Event) -> Result<u64, DurableError> {
        let json = if event.index.is_some() {
            let mut unindexed = event.clone();
            unindexed.index = None;
            encode(&unindexed)?
        } else {
            encode(event)?
        };
        Ok(self.cache.append_indexed(&self.key(topic), &json).await?)
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

/// Serializes an event into a buffer sized for a typical envelope, sparing the
/// reallocations of `serde_json::to_string`'s small default buffer.
fn encode(event: &Event) -> Result<String, DurableError> {
    let mut buffer = Vec::with_capacity(512);
    serde_json::to_writer(&mut buffer, event)?;
    // serde_json writes valid UTF-8.
    String::from_utf8(buffer).map_err(|error| DurableError::Backend {
        source: error.into(),
        retryable: false,
    })
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
