//! Decoding the stream replies of consumer groups (`XREADGROUP`, the reclaim script).

use fred::types::Value;
use mastra_pubsub::Event;

pub(crate) fn array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(values) => values,
        _ => Vec::new(),
    }
}

/// `XREADGROUP`'s reply for one stream: `[[stream, [[id, fields], ...]]]` (nil when empty).
pub(crate) fn read_entries(reply: Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for stream in array(reply) {
        let Some(entries) = array(stream).into_iter().nth(1) else {
            continue;
        };
        for entry in array(entries) {
            let mut parts = array(entry).into_iter();
            if let (Some(id), Some(fields)) = (parts.next(), parts.next()) {
                if let Some(id) = id.as_string() {
                    out.push((id, fields));
                }
            }
        }
    }
    out
}

/// The `event` field of a stream entry, with its delivery attempt set.
pub(crate) fn decode(fields: &Value, attempt: u64) -> Option<Event> {
    let Value::Array(fields) = fields else {
        return None;
    };
    let raw = fields
        .chunks(2)
        .find(|pair| pair.first().and_then(Value::as_str).as_deref() == Some("event"))
        .and_then(|pair| pair.get(1))?;
    match raw.as_bytes().map(serde_json::from_slice::<Event>) {
        Some(Ok(event)) => {
            let attempt = u32::try_from(attempt).unwrap_or(u32::MAX);
            Some(event.with_delivery_attempt(attempt))
        }
        _ => {
            tracing::warn!("undecodable group message skipped");
            None
        }
    }
}
