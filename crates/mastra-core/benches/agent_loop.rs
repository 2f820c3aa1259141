//! The loop's own overhead: chunks per second through `Agent::stream`, with a model that
//! produces its deltas as fast as it can (no delay, one 20-byte delta at a time).
//!
//! `cargo bench -p mastra-core --bench agent_loop`

#![allow(clippy::expect_used)] // a benchmark may stop at a broken setup

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::StreamExt;
use mastra_core::{
    Agent, FinishReason, LanguageModel, ModelError, ModelPart, ModelRequest, ModelStream,
    StreamOptions, Usage,
};

/// Streams `deltas` text deltas of 20 bytes, then a finish.
struct RepeatModel {
    deltas: usize,
}

#[async_trait::async_trait]
impl LanguageModel for RepeatModel {
    fn provider(&self) -> &str {
        "bench"
    }
    fn model_id(&self) -> &str {
        "repeat"
    }
    async fn stream(&self, _request: ModelRequest) -> Result<ModelStream, ModelError> {
        let deltas =
            (0..self.deltas).map(|_| Ok(ModelPart::TextDelta("abcdefghijklmnopqrs ".to_owned())));
        let finish = Ok(ModelPart::Finish {
            reason: FinishReason::Stop,
            usage: Usage::new(1, 1),
        });
        Ok(futures::stream::iter(deltas.chain([finish])).boxed())
    }
}

/// Runs once and returns how many chunks came out.
async fn run(agent: &Agent) -> usize {
    agent.stream("go", StreamOptions::new()).count().await
}

fn bench_loop(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("agent_stream");

    // One run of 10,000 deltas: start, step-start, text-start, 10,000 deltas, text-end,
    // step-finish, finish.
    let agent = Agent::builder("bench", RepeatModel { deltas: 10_000 }).build();
    let chunks = rt.block_on(run(&agent));
    assert_eq!(chunks, 10_006);
    group.throughput(Throughput::Elements(chunks as u64));
    group.bench_function(BenchmarkId::new("one_run", "10000_deltas"), |b| {
        b.to_async(&rt).iter(|| run(&agent))
    });

    // 1,000 sequential runs of 50 deltas: per-run costs (spawn, ids, finish) show here.
    let agent = Agent::builder("bench", RepeatModel { deltas: 50 }).build();
    let per_run = rt.block_on(run(&agent));
    group.throughput(Throughput::Elements(per_run as u64 * 1_000));
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("sequential_runs", "1000x50_deltas"), |b| {
        b.to_async(&rt).iter(|| async {
            for _ in 0..1_000 {
                run(&agent).await;
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_loop);
criterion_main!(benches);
