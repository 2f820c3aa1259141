//! 10,000 concurrent durable runs of 50 events each, in memory: events per second through
//! the whole pipeline (agent loop, log, live delivery to each run's reader, then a replay of
//! each log), and the peak heap above the starting point while they run (sampled every
//! 200 µs from the counting allocator).
//!
//! `cargo bench -p mastra-durable --bench durable_scale` (prints a table; three repetitions).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark may stop at a broken setup

use futures::StreamExt;
use mastra_cache::{InMemoryServerCache, InMemoryServerCacheOptions};
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{Agent, StreamOptions};
use mastra_durable::create_durable_agent;
use mastra_pubsub::EventEmitterPubSub;
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes in use right now.
fn live_heap() -> usize {
    let stats = GLOBAL.stats();
    stats
        .bytes_allocated
        .saturating_sub(stats.bytes_deallocated)
}

/// Samples the heap every 200 µs on a thread of its own until stopped; returns the peak.
fn sample_peak(stop: Arc<AtomicBool>, peak: Arc<AtomicUsize>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            peak.fetch_max(live_heap(), Ordering::Relaxed);
            std::thread::sleep(Duration::from_micros(200));
        }
    })
}

const RUNS: usize = 10_000;
/// start, step-start, text-start, 44 deltas, text-end, step-finish, finish = 50 events.
const DELTAS: usize = 44;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for round in 1..=3 {
        rows.push(rt.block_on(round_of_runs(round)));
    }
    println!("\n10,000 concurrent durable runs x 50 events (in memory, 2 workers)");
    println!("| round | wall time | events/s | peak heap | heap per run |");
    println!("|---|---|---|---|---|");
    for (round, secs, events, peak) in rows {
        println!(
            "| {round} | {:.0} ms | {:.0} | {:.1} MB | {:.1} KB |",
            secs * 1000.0,
            events as f64 / secs,
            peak as f64 / 1e6,
            peak as f64 / RUNS as f64 / 1e3
        );
    }
}

async fn round_of_runs(round: usize) -> (usize, f64, usize, usize) {
    let deltas: Vec<String> = (0..DELTAS).map(|i| format!("token{i:02} ")).collect();
    let cache = InMemoryServerCache::with_options(
        InMemoryServerCacheOptions::default().with_max_keys(2 * RUNS as u64),
    );
    let durable = Arc::new(
        create_durable_agent(Agent::builder("scale", ScriptedModel::new([])).build())
            .pubsub(Arc::new(EventEmitterPubSub::new()))
            .cache(Arc::new(cache))
            .build(),
    );
    // Each run gets its own scripted model: agents are cheap to build and share nothing.
    let agents: Vec<_> = (0..RUNS)
        .map(|_| {
            let model = ScriptedModel::new([ScriptedResponse::new().text_deltas(deltas.clone())]);
            create_durable_agent(Agent::builder("scale", model).build())
                .pubsub(durable.context().channel.transport())
                .cache(match &durable.context().channel {
                    mastra_durable::agent::RunChannel::Logged(c) => c.log().cache().clone(),
                    mastra_durable::agent::RunChannel::LiveOnly(_) => unreachable!(),
                })
                .build()
        })
        .collect();
    let baseline = live_heap();
    let (stop, peak) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(baseline)),
    );
    let sampler = sample_peak(stop.clone(), peak.clone());
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(RUNS);
    for agent in agents {
        tasks.push(tokio::spawn(async move {
            let stream = agent
                .stream("go", StreamOptions::new())
                .await
                .expect("stream");
            let run_id = stream.run_id().to_owned();
            let chunks = stream.count().await;
            let events = agent
                .observe(&run_id, 0)
                .await
                .expect("observe")
                .count()
                .await;
            (chunks, events)
        }));
    }
    let mut events = 0;
    for task in tasks {
        let (chunks, logged) = task.await.expect("task");
        assert_eq!(chunks, 50);
        assert_eq!(logged, 50);
        events += chunks;
    }
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    let peak = peak.load(Ordering::Relaxed).saturating_sub(baseline);
    (round, secs, events, peak)
}
