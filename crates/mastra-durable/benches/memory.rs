//! Memory held by the in-memory run logs: 1,000 runs of 100 logged events whose `data` is
//! 200 bytes of JSON, measured with a counting global allocator.
//!
//! Run with `cargo bench -p mastra-durable --bench memory`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::alloc::System;

use mastra_durable::agent_stream_topic;
use mastra_pubsub::PublishOptions;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const RUNS: usize = 1_000;
const EVENTS_PER_RUN: usize = 100;
const PAYLOAD: usize = 200;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (caching, cache) = support::in_memory_with_cache(RUNS as u64);
    // Run ids are UUIDs in production, so the envelopes carry 36-byte run ids.
    let run_ids: Vec<String> = (0..RUNS)
        .map(|_| mastra_pubsub::Event::new("chunk", "", serde_json::Value::Null).id)
        .collect();
    let sample = support::chunk_with_payload(&run_ids[0], PAYLOAD);
    let payload_bytes = serde_json::to_string(&sample.data).expect("json").len();
    let envelope_bytes = serde_json::to_string(&sample.with_index(42))
        .expect("json")
        .len();

    let region = Region::new(GLOBAL);
    runtime.block_on(async {
        for run_id in &run_ids {
            let topic = agent_stream_topic(run_id);
            for _ in 0..EVENTS_PER_RUN {
                let event = support::chunk_with_payload(run_id, PAYLOAD);
                caching
                    .publish_event(&topic, event, PublishOptions::default())
                    .await
                    .expect("publish");
            }
        }
    });
    // Let moka finish its deferred bookkeeping, so what is counted is what stays.
    assert_eq!(cache.key_count(), RUNS as u64);
    let stats = region.change();
    // `realloc` growth and shrinkage are already counted in these two.
    let held = stats.bytes_allocated as i64 - stats.bytes_deallocated as i64;
    let events = (RUNS * EVENTS_PER_RUN) as f64;
    let per_event = held as f64 / events;

    let logged: u64 = runtime.block_on(async {
        let mut total = 0;
        for run_id in &run_ids {
            total += caching
                .history_len(&agent_stream_topic(run_id))
                .await
                .expect("len");
        }
        total
    });
    println!("{RUNS} runs x {EVENTS_PER_RUN} events, data {payload_bytes} B, envelope JSON {envelope_bytes} B");
    println!("events still logged: {logged}");
    println!("heap held by the logs: {held} B = {per_event:.1} B/event");
    println!(
        "ratio to payload: {:.2}x   ratio to envelope JSON: {:.2}x",
        per_event / payload_bytes as f64,
        per_event / envelope_bytes as f64
    );
}
