//! Throughput of the durable pipeline, in memory: publish -> log -> live observers, and
//! replay from the log. `publish_log_observe_pipelined` runs the first through the
//! pipelined writer (queued sends, one batch append per wake-up, flushed at the end), to
//! see what it costs where an append is cheap: whether in-memory logs should pipeline.
//!
//! Run with `cargo bench -p mastra-durable --bench pipeline`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mastra_durable::agent_stream_topic;
use mastra_pubsub::{PubSub, PublishOptions};

const BATCH: u64 = 1_000;

/// Publishes `BATCH` events while `observers` observers read them all; returns the time
/// from the first publish to the last delivery.
async fn one_batch(
    caching: &mastra_durable::CachingPubSub,
    topic: &str,
    payload: usize,
    observers: usize,
) -> Duration {
    let mut readers = Vec::new();
    for _ in 0..observers {
        let mut observer = caching.subscribe_with_replay(topic).await.expect("observe");
        readers.push(tokio::spawn(async move {
            for _ in 0..BATCH {
                observer.next().await.expect("open").expect("event");
            }
        }));
    }
    // Events are made by the producer before they enter the pipeline. The producer is a
    // task, as an agent run is, not the benchmark's own thread.
    let events: Vec<_> = (0..BATCH)
        .map(|_| support::chunk_with_payload("bench", payload))
        .collect();
    let (producer_side, producer_topic) = (caching.clone(), topic.to_owned());
    let started = Instant::now();
    let producer = tokio::spawn(async move {
        match producer_side.sender(&producer_topic) {
            Some(sender) => {
                for event in events {
                    sender
                        .send(event, PublishOptions::default())
                        .await
                        .expect("send");
                }
                sender.flush().await.expect("flush");
            }
            None => {
                for event in events {
                    producer_side
                        .publish_event(&producer_topic, event, PublishOptions::default())
                        .await
                        .expect("publish");
                }
            }
        }
    });
    producer.await.expect("producer");
    for reader in readers {
        reader.await.expect("reader");
    }
    let elapsed = started.elapsed();
    caching.clear_topic(topic).await.expect("clear");
    elapsed
}

fn publish_to_one_observer(c: &mut Criterion) {
    publish_to_one_observer_with(c, support::in_memory(10_000), "publish_log_observe");
}

fn publish_to_one_observer_pipelined(c: &mut Criterion) {
    let caching = support::in_memory_pipelined(10_000);
    publish_to_one_observer_with(c, caching, "publish_log_observe_pipelined");
}

fn publish_to_one_observer_with(
    c: &mut Criterion,
    caching: mastra_durable::CachingPubSub,
    name: &str,
) {
    let runtime = support::runtime();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(BATCH));
    for payload in [100usize, 1_024] {
        group.bench_with_input(
            BenchmarkId::new("payload_bytes", payload),
            &payload,
            |b, &payload| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let mut total = Duration::ZERO;
                        for n in 0..iters {
                            let topic = agent_stream_topic(&format!("p{payload}-{n}"));
                            total += one_batch(&caching, &topic, payload, 1).await;
                        }
                        total
                    })
                });
            },
        );
    }
    group.finish();
}

fn fan_out(c: &mut Criterion) {
    let runtime = support::runtime();
    let caching = support::in_memory(10_000);
    let mut group = c.benchmark_group("fan_out");
    group.sample_size(20);
    for observers in [1usize, 10, 100] {
        group.throughput(Throughput::Elements(BATCH * observers as u64));
        group.bench_with_input(
            BenchmarkId::new("observers", observers),
            &observers,
            |b, &observers| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let mut total = Duration::ZERO;
                        for n in 0..iters {
                            let topic = agent_stream_topic(&format!("f{observers}-{n}"));
                            total += one_batch(&caching, &topic, 100, observers).await;
                        }
                        total
                    })
                });
            },
        );
    }
    group.finish();
}

fn replay(c: &mut Criterion) {
    const LOGGED: u64 = 10_000;
    let runtime = support::runtime();
    let caching = support::in_memory(10_000);
    let topic = agent_stream_topic("replay");
    runtime.block_on(async {
        for _ in 0..LOGGED {
            let event = support::chunk_with_payload("replay", 100);
            caching
                .publish_event(&topic, event, PublishOptions::default())
                .await
                .expect("publish");
        }
    });
    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(LOGGED));
    group.bench_function("10k_events_from_offset_0", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut observer = caching
                .subscribe_from_offset(&topic, 0)
                .await
                .expect("observe");
            for _ in 0..LOGGED {
                observer.next().await.expect("open").expect("event");
            }
        });
    });
    group.bench_function("10k_events_history_read", |b| {
        b.to_async(&runtime).iter(|| async {
            let history = caching.history(&topic, 0).await.expect("history");
            assert_eq!(history.len() as u64, LOGGED);
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    publish_to_one_observer,
    publish_to_one_observer_pipelined,
    fan_out,
    replay
);
criterion_main!(benches);
