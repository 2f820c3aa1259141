//! Envelopes back into chunks (wire-contract §2): what `/stream` would have sent for them.

use mastra_core::Chunk;
use mastra_pubsub::Event;

/// The chunk an envelope carries: `chunk` and `step-start` carry a whole chunk;
/// `step-finish`, `finish` and `error` carry its payload. Other envelopes (`suspended`,
/// lifecycle events) carry none.
pub fn envelope_chunk(event: &Event) -> Option<Chunk> {
    Chunk::from_envelope(event.kind.as_str(), &event.run_id, &event.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_from_literal_json() {
        let delta: Event = serde_json::from_str(
            r#"{"index":3,"type":"chunk","runId":"r","data":{"type":"text-delta","runId":"r","from":"AGENT","payload":{"id":"t","text":"1"}},"id":"e","createdAt":"2026-11-29T16:00:00.000Z"}"#,
        )
        .unwrap();
        let chunk = envelope_chunk(&delta).unwrap();
        assert_eq!(chunk.type_name(), "text-delta");
        assert_eq!(chunk.run_id, "r");
        let finish: Event = serde_json::from_str(
            r#"{"index":9,"type":"finish","runId":"r","data":{"output":{"text":"1","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}},"stepResult":{"reason":"stop","warnings":[],"isContinued":false}},"id":"f","createdAt":"2026-11-29T16:00:00.000Z"}"#,
        )
        .unwrap();
        assert!(envelope_chunk(&finish).unwrap().is_terminal());
        let suspended: Event = serde_json::from_str(
            r#"{"index":4,"type":"suspended","runId":"r","data":{"type":"approval"},"id":"s","createdAt":"2026-11-29T16:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(envelope_chunk(&suspended), None);
    }
}
