//! Shared set-up of the durable agent scenarios: agents and tools, readers that fail loudly
//! instead of hanging, and a run-state store that keeps nothing but JSON text.

#![allow(dead_code)] // each scenario file uses only part of it

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use mastra_core::chunk::FinishPayload;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::tool::{tool, ToolContext};
use mastra_core::{demo, Agent, Chunk, ChunkKind, FinishReason, Tool, ToolError};
use mastra_durable::agent::EventStream;
use mastra_durable::{DurableAgent, DurableError, DurableStream, RunRecord, RunStore};
use mastra_pubsub::{Event, EventType};
use serde::Deserialize;
use serde_json::{json, Value};

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

/// What the demo model answers to `count to n`.
pub(crate) fn count_text(n: u64) -> String {
    (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
}

/// The demo agent with the demo tools.
pub(crate) fn demo_agent(id: &str) -> Agent {
    Agent::builder(id, demo::DemoModel::new())
        .tools(demo::demo_tools())
        .build()
}

/// A model that streams `deltas` slowly, one per `delay`, in one step.
pub(crate) fn slow_writer(deltas: &[&str], delay: Duration) -> ScriptedModel {
    ScriptedModel::new([ScriptedResponse::new()
        .text_deltas(deltas.iter().copied())
        .delay(delay)])
}

/// Counts how often something happened, across tasks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct Pay {
    pub(crate) amount: u32,
}

/// `pay`: needs a person's approval; counts its runs.
pub(crate) fn pay_tool(runs: Counter) -> impl Tool {
    tool(
        "pay",
        "pays an amount",
        move |input: Pay, _: ToolContext| {
            let runs = runs.clone();
            async move {
                runs.bump();
                Ok::<_, ToolError>(json!({ "paid": input.amount }))
            }
        },
    )
    .with_approval(true)
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct Question {
    pub(crate) question: String,
}

/// `ask`: suspends with `{question}` until resumed, then answers with the resume data.
/// Records the resume data of every execution.
pub(crate) fn ask_tool(seen: Arc<Mutex<Vec<Option<Value>>>>) -> impl Tool {
    tool(
        "ask",
        "asks a person",
        move |input: Question, ctx: ToolContext| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(ctx.resume_data.clone());
                match ctx.resume_data {
                    None => Err(ToolError::Suspend(json!({ "question": input.question }))),
                    Some(answer) => Ok(json!({ "answer": answer })),
                }
            }
        },
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct Work {
    pub(crate) parts: u32,
}

/// `work`: writes a `data-progress` chunk per part, then returns.
pub(crate) fn work_tool() -> impl Tool {
    tool(
        "work",
        "works in parts",
        |input: Work, ctx: ToolContext| async move {
            for part in 1..=input.parts {
                ctx.write_data("progress", json!({ "part": part, "of": input.parts }));
                tokio::task::yield_now().await;
            }
            Ok::<_, ToolError>(json!({ "parts": input.parts }))
        },
    )
}

/// A run-state store that keeps each record only as JSON text, as a database would: a
/// paused run survives it only if its whole state serializes.
#[derive(Debug, Default)]
pub(crate) struct JsonRunStore {
    records: Mutex<HashMap<String, String>>,
}

impl JsonRunStore {
    /// The stored text of a run.
    pub(crate) fn raw(&self, run_id: &str) -> Option<String> {
        self.records.lock().unwrap().get(run_id).cloned()
    }
}

fn parse(text: Option<String>) -> Result<Option<RunRecord>, DurableError> {
    text.map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(DurableError::from)
}

#[async_trait]
impl RunStore for JsonRunStore {
    async fn save(&self, record: &RunRecord) -> Result<(), DurableError> {
        let text = serde_json::to_string(record)?;
        let run_id = record.state.run_id.clone();
        self.records.lock().unwrap().insert(run_id, text);
        Ok(())
    }

    async fn load(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        parse(self.raw(run_id))
    }

    async fn take(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        parse(self.records.lock().unwrap().remove(run_id))
    }

    async fn delete(&self, run_id: &str) -> Result<(), DurableError> {
        self.records.lock().unwrap().remove(run_id);
        Ok(())
    }

    async fn list(&self) -> Result<Vec<String>, DurableError> {
        Ok(self.records.lock().unwrap().keys().cloned().collect())
    }
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

/// The in-memory run store, slow to save: a paused run's state lands a while after the
/// executor decided to pause, as with a remote database.
#[derive(Debug, Default)]
pub(crate) struct SlowSaveStore {
    inner: mastra_durable::InMemoryRunStore,
    pub(crate) delay: Duration,
}

impl SlowSaveStore {
    pub(crate) fn new(delay: Duration) -> Self {
        Self {
            inner: Default::default(),
            delay,
        }
    }
}

#[async_trait]
impl RunStore for SlowSaveStore {
    async fn save(&self, record: &RunRecord) -> Result<(), DurableError> {
        tokio::time::sleep(self.delay).await;
        self.inner.save(record).await
    }

    async fn load(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        self.inner.load(run_id).await
    }

    async fn take(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        self.inner.take(run_id).await
    }

    async fn delete(&self, run_id: &str) -> Result<(), DurableError> {
        self.inner.delete(run_id).await
    }

    async fn list(&self) -> Result<Vec<String>, DurableError> {
        self.inner.list().await
    }
}
