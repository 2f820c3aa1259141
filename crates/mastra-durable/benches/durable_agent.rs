//! What durability costs: a durable run against the plain agent, same model and tools, in
//! memory. The model is a scripted one that costs next to nothing, so the figures are the
//! framework's own overhead.
//!
//! `cargo bench -p mastra-durable --bench durable_agent`

#![allow(clippy::expect_used, clippy::panic)] // a benchmark may stop at a broken setup

mod support;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mastra_core::StreamOptions;
use mastra_durable::agent::RunChannel;
use mastra_durable::agent_stream_topic;
use support::agents::{
    durable_agent, durable_agent_keeping_logs, durable_agent_pipelined, plain_agent, TEXT_DELTAS,
};

fn durable_vs_plain(c: &mut Criterion) {
    // One thread: wall time is CPU time, and the two paths are compared on equal terms.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let plain = plain_agent();
    let durable = rt.block_on(async { durable_agent(20_000) });
    let pipelined = rt.block_on(async { durable_agent_pipelined(20_000) });

    let chunks = rt.block_on(async {
        let out = plain
            .generate("go", StreamOptions::new())
            .await
            .expect("plain run");
        assert_eq!(out.steps.len(), 3);
        futures::StreamExt::count(plain.stream("go", StreamOptions::new())).await
    });
    let mut group = c.benchmark_group("two_tool_steps_run");
    group.throughput(Throughput::Elements(chunks as u64));
    group.bench_function("plain_agent", |b| {
        b.to_async(&rt).iter(|| async {
            plain
                .generate("go", StreamOptions::new())
                .await
                .expect("run")
        })
    });
    group.bench_function("durable_agent_in_memory", |b| {
        b.to_async(&rt).iter(|| async {
            durable
                .generate("go", StreamOptions::new())
                .await
                .expect("run")
        })
    });
    // Not the in-memory default: what pipelining would cost (or save) here.
    group.bench_function("durable_agent_in_memory_pipelined", |b| {
        b.to_async(&rt).iter(|| async {
            pipelined
                .generate("go", StreamOptions::new())
                .await
                .expect("run")
        })
    });
    // The floor of any JSON run log: writing the run's envelopes as JSON, nothing else
    // (the events of one real durable run, serialized with the log's own writer).
    let events = rt.block_on(async {
        let keeper = durable_agent_keeping_logs();
        let out = keeper
            .generate("go", StreamOptions::new())
            .await
            .expect("run");
        let RunChannel::Logged(caching) = &keeper.context().channel else {
            panic!("the bench agent logs its runs");
        };
        caching
            .history(&agent_stream_topic(&out.run_id), 0)
            .await
            .expect("history")
    });
    group.bench_function("envelopes_to_json_only", |b| {
        let mut out = String::with_capacity(64 * 1024);
        b.iter(|| {
            out.clear();
            for event in &events {
                event.write_json(&mut out);
            }
            out.len()
        })
    });
    group.finish();
    eprintln!(
        "(each run: {chunks} chunks, {TEXT_DELTAS} text deltas, two tool steps; {} logged events)",
        events.len()
    );
}

criterion_group!(benches, durable_vs_plain);
criterion_main!(benches);
