//! The envelope's JSON against literal strings (wire-contract §2).

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers of a test file

use chrono::{TimeZone, Utc};
use mastra_pubsub::{Event, EventType};
use serde_json::json;

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 16, 0, 0).unwrap()
}

fn chunk() -> Event {
    Event::new(
        EventType::Chunk,
        "run-1",
        json!({"type": "text-delta", "payload": {"id": "t", "text": "hi"}}),
    )
    .with_id("5f0c6f5e-0000-4000-8000-000000000001")
    .with_created_at(at())
}

#[test]
fn indexed_event_serializes_with_index_first() {
    let event = chunk().with_index(17);
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"index":17,"type":"chunk","runId":"run-1","data":{"payload":{"id":"t","text":"hi"},"type":"text-delta"},"id":"5f0c6f5e-0000-4000-8000-000000000001","createdAt":"2026-11-29T16:00:00.000Z"}"#
    );
}

#[test]
fn event_without_index_omits_it() {
    assert_eq!(
        serde_json::to_string(&chunk()).unwrap(),
        r#"{"type":"chunk","runId":"run-1","data":{"payload":{"id":"t","text":"hi"},"type":"text-delta"},"id":"5f0c6f5e-0000-4000-8000-000000000001","createdAt":"2026-11-29T16:00:00.000Z"}"#
    );
}

#[test]
fn optional_delivery_attempt_and_generation_follow() {
    let event = Event::new(EventType::OwnershipClaimed, "r", json!({}))
        .with_id("i")
        .with_created_at(at())
        .with_index(0)
        .with_delivery_attempt(2)
        .with_generation(7);
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"index":0,"type":"ownership-claimed","runId":"r","data":{},"id":"i","createdAt":"2026-11-29T16:00:00.000Z","deliveryAttempt":2,"generation":7}"#
    );
}

#[test]
fn created_at_keeps_milliseconds() {
    let event = chunk().with_created_at(Utc.timestamp_millis_opt(1_764_432_000_123).unwrap());
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["createdAt"], "2025-11-29T16:00:00.123Z");
}

#[test]
fn upstream_envelope_parses() {
    let raw = r#"{"index":3,"type":"finish","runId":"r","data":{"output":{"usage":{}}},"id":"x","createdAt":"2026-11-29T16:00:00.000Z"}"#;
    let event: Event = serde_json::from_str(raw).unwrap();
    assert_eq!(event.index, Some(3));
    assert_eq!(event.kind, EventType::Finish);
    assert!(event.is_terminal());
    assert_eq!(event.created_at, at());
    assert_eq!(serde_json::to_string(&event).unwrap(), raw);
}

#[test]
fn every_known_type_round_trips() {
    let types = [
        ("chunk", EventType::Chunk, false),
        ("step-start", EventType::StepStart, false),
        ("step-finish", EventType::StepFinish, false),
        ("finish", EventType::Finish, true),
        ("error", EventType::Error, true),
        ("suspended", EventType::Suspended, false),
        ("abort", EventType::Abort, true),
        ("iteration-complete", EventType::IterationComplete, false),
        ("ownership-claimed", EventType::OwnershipClaimed, false),
    ];
    for (wire, kind, terminal) in types {
        assert_eq!(serde_json::to_value(&kind).unwrap(), json!(wire));
        assert_eq!(
            serde_json::from_value::<EventType>(json!(wire)).unwrap(),
            kind
        );
        assert_eq!(kind.is_terminal(), terminal, "{wire}");
    }
}

#[test]
fn unknown_types_round_trip_verbatim() {
    let raw = r#"{"type":"workflow.step.run","runId":"r","data":null,"id":"x","createdAt":"2026-11-29T16:00:00.000Z"}"#;
    let event: Event = serde_json::from_str(raw).unwrap();
    assert_eq!(event.kind, EventType::Other("workflow.step.run".into()));
    assert!(!event.is_terminal());
    assert_eq!(serde_json::to_string(&event).unwrap(), raw);
    assert_eq!(EventType::from("finish".to_string()), EventType::Finish);
}

#[test]
fn other_offsets_are_normalized_to_utc() {
    let raw = r#"{"type":"chunk","runId":"r","data":1,"id":"x","createdAt":"2026-11-29T17:00:00.5+01:00"}"#;
    let event: Event = serde_json::from_str(raw).unwrap();
    assert_eq!(
        mastra_pubsub::format_created_at(&event.created_at),
        "2026-11-29T16:00:00.500Z"
    );
}

#[test]
fn new_events_get_a_uuid_and_no_index() {
    let event = Event::new("custom", "r", json!(null));
    assert!(uuid::Uuid::parse_str(&event.id).is_ok());
    assert_eq!(event.index, None);
    assert_eq!(event.kind, EventType::Other("custom".into()));
}

#[test]
fn created_at_matches_javascript_for_edge_times() {
    for (millis, expected) in [
        (0, "1970-01-01T00:00:00.000Z"),
        (951_782_400_999, "2000-02-29T00:00:00.999Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ] {
        let at = Utc.timestamp_millis_opt(millis).unwrap();
        assert_eq!(mastra_pubsub::format_created_at(&at), expected);
        assert_eq!(
            mastra_pubsub::format_created_at(&at),
            at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        );
    }
}
