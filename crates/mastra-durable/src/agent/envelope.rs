//! Chunks to envelopes and back (wire-contract §2): how an agent run is written to its log.
//!
//! `step-start` and every model chunk travel as their chunk; `step-finish`, `finish` and
//! `error` carry the chunk's payload as their data; `suspended` carries the suspension.

use mastra_core::{Chunk, ChunkKind, Suspension};
use mastra_pubsub::{Event, EventType};

/// The envelope for one chunk of run `run_id`.
pub fn chunk_event(chunk: &Chunk) -> Result<Event, serde_json::Error> {
    let (kind, data) = match &chunk.kind {
        ChunkKind::StepStart(_) => (EventType::StepStart, serde_json::to_value(chunk)?),
        ChunkKind::StepFinish(payload) => (EventType::StepFinish, serde_json::to_value(payload)?),
        ChunkKind::Finish(payload) => (EventType::Finish, serde_json::to_value(payload)?),
        ChunkKind::Error(payload) => (EventType::Error, serde_json::to_value(payload)?),
        _ => (EventType::Chunk, serde_json::to_value(chunk)?),
    };
    Ok(Event::new(kind, chunk.run_id.clone(), data))
}

/// The envelope announcing that a run waits on `suspension`.
pub fn suspended_event(run_id: &str, suspension: &Suspension) -> Result<Event, serde_json::Error> {
    Ok(Event::new(
        EventType::Suspended,
        run_id,
        serde_json::to_value(suspension)?,
    ))
}

/// The chunk an envelope carries, if it carries one (`suspended` and lifecycle-only events
/// such as `iteration-complete` carry none).
pub fn event_chunk(event: &Event) -> Option<Chunk> {
    Chunk::from_envelope(event.kind.as_str(), &event.run_id, &event.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mastra_core::chunk::{
        DeltaPayload, ErrorPayload, FinishOutput, FinishPayload, StepResultInfo,
    };
    use mastra_core::{ErrorInfo, FinishReason, SuspensionKind, Usage};
    use serde_json::json;

    fn round_trip(chunk: Chunk) -> Event {
        let event = chunk_event(&chunk).unwrap();
        assert_eq!(event_chunk(&event), Some(chunk));
        event
    }

    #[test]
    fn chunks_travel_as_chunk_events_and_come_back() {
        let delta = Chunk::agent(
            "r",
            ChunkKind::TextDelta(DeltaPayload {
                id: "t".into(),
                text: "hi".into(),
                provider_metadata: None,
            }),
        );
        let event = round_trip(delta);
        assert_eq!(event.kind, EventType::Chunk);
        assert_eq!(event.data["type"], "text-delta");
        assert_eq!(event.data["runId"], "r");
    }

    #[test]
    fn finish_and_error_carry_their_payload_as_data() {
        let finish = Chunk::agent(
            "r",
            ChunkKind::Finish(FinishPayload {
                step_result: StepResultInfo {
                    reason: FinishReason::Stop,
                    warnings: vec![],
                    is_continued: false,
                    total_usage: None,
                    message_id: None,
                },
                output: FinishOutput {
                    text: Some("hi".into()),
                    usage: Usage::new(1, 2),
                    steps: Some(vec![]),
                },
            }),
        );
        let event = round_trip(finish);
        assert_eq!(event.kind, EventType::Finish);
        assert_eq!(event.data["stepResult"]["reason"], "stop");
        assert_eq!(event.data["output"]["text"], "hi");
        assert!(event.is_terminal());

        let error = Chunk::agent(
            "r",
            ChunkKind::Error(ErrorPayload {
                error: ErrorInfo::new("ModelError", "down"),
            }),
        );
        let event = round_trip(error);
        assert_eq!(
            event.data,
            json!({"error": {"name": "ModelError", "message": "down"}})
        );
    }

    #[test]
    fn suspended_events_carry_the_suspension() {
        let s = Suspension {
            tool_call_id: "c".into(),
            tool_name: "pay".into(),
            args: json!({"amount": 1}),
            suspend_payload: None,
            kind: SuspensionKind::Approval,
        };
        let event = suspended_event("r", &s).unwrap();
        assert_eq!(event.kind, EventType::Suspended);
        assert_eq!(
            event.data,
            json!({"toolCallId": "c", "toolName": "pay", "args": {"amount": 1}, "type": "approval"})
        );
        assert!(event_chunk(&event).is_none());
        assert!(!event.is_terminal());
    }
}
