//! Latency of publish -> log -> one live observer, in memory: p50/p99 for one event at a
//! time (idle pipeline) and for events published back to back (loaded pipeline).
//!
//! Run with `cargo bench -p mastra-durable --bench latency`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mastra_durable::agent_stream_topic;
use mastra_pubsub::PublishOptions;
use tokio::sync::Mutex;

const SAMPLES: usize = 20_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    println!(
        "{label:<40} p50 {:>8.2} us   p99 {:>8.2} us   max {:>9.2} us",
        percentile(&samples, 0.50).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
    );
}

/// One event in flight at a time: publish, wait until the observer has it.
async fn idle(payload: usize) -> Vec<Duration> {
    let caching = support::in_memory(1_000);
    let topic = agent_stream_topic(&format!("idle-{payload}"));
    let mut observer = caching
        .subscribe_with_replay(&topic)
        .await
        .expect("observe");
    let mut samples = Vec::with_capacity(SAMPLES);
    for round in 0..SAMPLES + 1_000 {
        let event = support::chunk_with_payload("bench", payload);
        let started = Instant::now();
        caching
            .publish_event(&topic, event, PublishOptions::default())
            .await
            .expect("publish");
        observer.next().await.expect("open").expect("event");
        if round >= 1_000 {
            samples.push(started.elapsed());
        }
    }
    samples
}

/// Events published back to back by one task while another observes; the latency of
/// each is from just before its publish to its delivery.
async fn loaded(payload: usize) -> Vec<Duration> {
    let caching = support::in_memory(1_000);
    let topic = agent_stream_topic(&format!("loaded-{payload}"));
    let mut observer = caching
        .subscribe_with_replay(&topic)
        .await
        .expect("observe");
    let sent = Arc::new(Mutex::new(Vec::with_capacity(SAMPLES)));
    let events: Vec<_> = (0..SAMPLES)
        .map(|_| support::chunk_with_payload("bench", payload))
        .collect();
    let producer = tokio::spawn({
        let (caching, topic, sent) = (caching.clone(), topic.clone(), sent.clone());
        async move {
            for (n, event) in events.into_iter().enumerate() {
                sent.lock().await.push(Instant::now());
                caching
                    .publish_event(&topic, event, PublishOptions::default())
                    .await
                    .expect("publish");
                if n % 64 == 63 {
                    tokio::task::yield_now().await;
                }
            }
        }
    });
    let mut received = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        observer.next().await.expect("open").expect("event");
        received.push(Instant::now());
    }
    producer.await.expect("producer");
    let sent = sent.lock().await;
    sent.iter()
        .zip(&received)
        .map(|(sent, received)| received.saturating_duration_since(*sent))
        .collect()
}

fn main() {
    let runtime = support::runtime();
    println!("publish -> log -> one observer, in memory, {SAMPLES} samples each");
    for payload in [100usize, 1_024] {
        report(
            &format!("idle, {payload}-byte payload"),
            runtime.block_on(idle(payload)),
        );
        report(
            &format!("loaded, {payload}-byte payload"),
            runtime.block_on(loaded(payload)),
        );
    }
}
