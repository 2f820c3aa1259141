//! Many concurrent runs on one durable agent never mix events (checklist 22): every run's
//! stream and its own observer see only that run, with its exact text and contiguous indices.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use mastra_core::{Chunk, StreamOptions};
use mastra_durable::agent::event_chunk;
use mastra_durable::{create_durable_agent, DurableAgent};
use mastra_pubsub::{Event, EventType};
use support::*;
use tokio::task::JoinSet;

const RUNS: u64 = 200;

/// One run of `count to n`, read by its stream and by an observer of its own at once.
async fn counted_run(durable: DurableAgent, n: u64) -> (String, Vec<Chunk>, Vec<Arc<Event>>) {
    let stream = durable
        .stream(format!("count to {n}"), StreamOptions::new())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    let observer = durable.observe(&run_id, 0).await.unwrap();
    let (chunks, events) = tokio::join!(read_chunks(stream), read_events(observer));
    (run_id, chunks, events)
}

fn check_run(n: u64, run_id: &str, chunks: &[Chunk], events: &[Arc<Event>]) {
    let expected = count_text(n);
    assert!(
        chunks.iter().all(|c| c.run_id == run_id),
        "run {n}: a foreign chunk"
    );
    assert_eq!(text_of(chunks), expected, "run {n}");
    assert_eq!(
        finish_of(chunks).output.text.as_deref(),
        Some(expected.as_str())
    );

    // start, step-start, text-start, n deltas, text-end, step-finish, finish.
    assert_eq!(
        events.len() as u64,
        n + 6,
        "run {n}: {:?}",
        event_kinds(events)
    );
    assert_contiguous(events, 0);
    for event in events {
        assert_eq!(event.run_id, run_id, "run {n}: a foreign envelope");
        if matches!(event.kind, EventType::Chunk | EventType::StepStart) {
            assert_eq!(event.data["runId"], run_id, "run {n}: a foreign chunk");
        }
    }
    let last = events.last().unwrap();
    assert_eq!(last.kind, EventType::Finish);
    assert_eq!(last.data["output"]["text"], expected.as_str());
    let observed: Vec<Chunk> = events.iter().filter_map(|e| event_chunk(e)).collect();
    assert_eq!(
        observed, chunks,
        "run {n}: the observer and the stream disagree"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_runs_never_mix_events() {
    let durable = create_durable_agent(demo_agent("counter")).build();
    let mut runs = JoinSet::new();
    for n in 1..=RUNS {
        let durable = durable.clone();
        runs.spawn(async move {
            let (run_id, chunks, events) = counted_run(durable, n).await;
            check_run(n, &run_id, &chunks, &events);
            run_id
        });
    }
    let mut run_ids = HashSet::new();
    while let Some(run_id) = within("every run ends", runs.join_next()).await {
        assert!(run_ids.insert(run_id.unwrap()), "two runs share an id");
    }
    assert_eq!(run_ids.len() as u64, RUNS);
    // Every run is still observable afterwards, each from its own log.
    for run_id in run_ids.iter().take(5) {
        let log = log_of(&durable, run_id).await;
        assert!(log.iter().all(|e| &e.run_id == run_id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tool_runs_and_text_runs_keep_their_own_answers() {
    let durable = create_durable_agent(demo_agent("assistant")).build();
    let cities = ["Paris", "Lima", "Oslo", "Accra", "Hanoi"];
    let mut runs = JoinSet::new();
    for i in 0..60u64 {
        let durable = durable.clone();
        let city = cities[i as usize % cities.len()];
        runs.spawn(async move {
            let (prompt, expected) = match i % 3 {
                0 => (format!("count to {}", i + 1), count_text(i + 1)),
                1 => (
                    format!("weather in {city}"),
                    format!("The weather in {city} is "),
                ),
                _ => (format!("calculate {i} * 2"), format!("{i} * 2 = {}", i * 2)),
            };
            let output = durable
                .generate(prompt, StreamOptions::new())
                .await
                .unwrap();
            assert!(
                output.text.starts_with(&expected),
                "{} vs {expected}",
                output.text
            );
            if i % 3 == 1 {
                assert_eq!(output.tool_results[0].result["city"], city);
            }
        });
    }
    while let Some(done) = within("every run ends", runs.join_next()).await {
        done.unwrap();
    }
}
