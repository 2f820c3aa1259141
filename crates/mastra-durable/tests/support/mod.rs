//! Shared set-up of the durable agent scenarios: readers that fail loudly instead of
//! hanging, assertions on chunks and envelopes, and (in submodules) agents, tools and
//! run-state store doubles.

#![allow(dead_code)] // each scenario file uses only part of it

mod stores;
mod tools;

#[allow(unused_imports)] // not every scenario needs them
pub(crate) use {stores::*, tools::*};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use mastra_core::chunk::FinishPayload;
use mastra_core::{Chunk, ChunkKind, FinishReason};
use mastra_durable::agent::EventStream;
use mastra_durable::{DurableAgent, DurableError, DurableStream};
use mastra_pubsub::{Event, EventType};

/// How long any single wait may take before the test fails instead of hanging.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// Awaits `future`, failing the test after [`PATIENCE`].
pub(crate) async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(PATIENCE, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// Every chunk of `stream` up to its end; a channel error fails the test.
pub(crate) async fn read_chunks(mut stream: DurableStream) -> Vec<Chunk> {
    within("reading a durable stream", async move {
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.next().await {
            chunks.push(chunk.expect("durable stream item"));
        }
        chunks
    })
    .await
}

/// The next chunk of `stream`, which must come.
pub(crate) async fn next_chunk(stream: &mut DurableStream) -> Chunk {
    within("the next chunk", stream.next())
        .await
        .expect("the stream ended early")
        .expect("durable stream item")
}

/// Reads `stream` until a chunk of type `kind`, returning everything read (that chunk last).
pub(crate) async fn read_until(stream: &mut DurableStream, kind: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    loop {
        let chunk = next_chunk(stream).await;
        let found = chunk.type_name() == kind;
        chunks.push(chunk);
        if found {
            return chunks;
        }
    }
}

/// Every envelope of `events` up to its end; a channel error fails the test.
pub(crate) async fn read_events(mut events: EventStream) -> Vec<Arc<Event>> {
    within("reading envelopes", async move {
        let mut seen = Vec::new();
        while let Some(event) = events.next().await {
            seen.push(event.expect("envelope"));
        }
        seen
    })
    .await
}

/// The run's whole log as an observer from 0 sees it (the run must have ended).
pub(crate) async fn log_of(agent: &DurableAgent, run_id: &str) -> Vec<Arc<Event>> {
    let events = agent.observe(run_id, 0).await.expect("observe from 0");
    read_events(events).await
}

/// Reads envelopes until one of type `kind` (inclusive).
pub(crate) async fn events_until(events: &mut EventStream, kind: &str) -> Vec<Arc<Event>> {
    let mut seen = Vec::new();
    loop {
        let event = within("the next envelope", events.next())
            .await
            .expect("the observer ended early")
            .expect("envelope");
        let found = event.kind.as_str() == kind;
        seen.push(event);
        if found {
            return seen;
        }
    }
}

pub(crate) fn kinds(chunks: &[Chunk]) -> Vec<String> {
    chunks.iter().map(|c| c.type_name().into_owned()).collect()
}

pub(crate) fn event_kinds(events: &[Arc<Event>]) -> Vec<String> {
    events.iter().map(|e| e.kind.as_str().to_owned()).collect()
}

pub(crate) fn indices(events: &[Arc<Event>]) -> Vec<u64> {
    events
        .iter()
        .map(|e| e.index.expect("a logged event has an index"))
        .collect()
}

/// Asserts that `events` carry exactly the indices `from, from + 1, ...`.
pub(crate) fn assert_contiguous(events: &[Arc<Event>], from: u64) {
    let expected: Vec<u64> = (from..from + events.len() as u64).collect();
    assert_eq!(indices(events), expected, "{:?}", event_kinds(events));
}

/// The text of every `text-delta`, concatenated.
pub(crate) fn text_of(chunks: &[Chunk]) -> String {
    chunks
        .iter()
        .filter_map(|c| match &c.kind {
            ChunkKind::TextDelta(delta) => Some(delta.text.as_str()),
            _ => None,
        })
        .collect()
}

/// The one `finish` chunk, which must end `chunks`.
pub(crate) fn finish_of(chunks: &[Chunk]) -> &FinishPayload {
    let finishes = chunks.iter().filter(|c| c.type_name() == "finish").count();
    assert_eq!(finishes, 1, "exactly one finish: {:?}", kinds(chunks));
    match &chunks.last().expect("no chunks").kind {
        ChunkKind::Finish(finish) => finish,
        _ => panic!("the stream does not end with finish: {:?}", kinds(chunks)),
    }
}

/// How many terminal envelopes (`finish`, `error`, `abort`) `events` hold.
pub(crate) fn terminal_count(events: &[Arc<Event>]) -> usize {
    events.iter().filter(|e| e.is_terminal()).count()
}

/// `stepResult.reason` of a `finish` envelope.
pub(crate) fn finish_reason(event: &Event) -> FinishReason {
    assert_eq!(event.kind, EventType::Finish, "not a finish: {event:?}");
    serde_json::from_value(event.data["stepResult"]["reason"].clone()).expect("a finish reason")
}

/// Asserts that observing `run_id` was refused as an unknown run.
pub(crate) fn assert_unknown_run(observed: Result<EventStream, DurableError>, run_id: &str) {
    match observed {
        Err(DurableError::UnknownRun { topic }) => {
            assert_eq!(topic, format!("agent.stream.{run_id}"));
        }
        Err(other) => panic!("expected UnknownRun for {run_id}, got {other:?}"),
        Ok(_) => panic!("expected UnknownRun for {run_id}, but the observe succeeded"),
    }
}
