//! SSE delivery over loopback, in memory: how many envelopes per second `POST .../observe`
//! delivers to 1 and to 100 concurrent observers (replaying a finished run, and following a
//! live one), and the time to the first event of an observe.
//!
//! `cargo bench -p mastra-server --bench sse`
//!
//! The clients run in the same process as the server (2 tokio workers) and only count the
//! `\n\n`-terminated blocks, so the figures are the server's delivery rate with a client
//! that costs next to nothing; on a 2-core machine the clients still share the CPU.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // a benchmark may stop at a broken setup

use futures::StreamExt;
use mastra_core::{demo, Agent, StreamOptions};
use mastra_durable::{create_durable_agent, Mastra};
use mastra_server::{serve_on, ServerConfig};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const AGENT: &str = "bench-agent";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let agent = Agent::builder(AGENT, demo::DemoModel::new()).build();
    // Keep finished runs' logs (until the cache TTL) so that they can be replayed.
    let durable = create_durable_agent(agent).cleanup_timeout(Duration::ZERO);
    let mastra = Mastra::builder()
        .durable_agent(durable)
        .build()
        .expect("mastra");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!(
        "http://{}/api/agents/{AGENT}",
        listener.local_addr().unwrap()
    );
    tokio::spawn(serve_on(
        listener,
        mastra.clone(),
        ServerConfig::new(),
        std::future::pending(),
    ));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(200)
        .build()
        .expect("client");

    println!(
        "| scenario | observers | events each | events delivered | wall time | events/s total |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (observers, count) in [(1, 100_000), (100, 10_000)] {
        let (run_id, events) = finished_run(&mastra, count).await;
        // One warm-up pass, then the measured one.
        replay(&client, &base, &run_id, observers, events).await;
        let wall = replay(&client, &base, &run_id, observers, events).await;
        report("replay (finished run)", observers, events, wall);
    }
    for observers in [1, 100] {
        let (events, wall) = live(&mastra, &client, &base, observers, 10_000).await;
        report("live (run in progress)", observers, events, wall);
    }

    let (run_id, _) = finished_run(&mastra, 100).await;
    let mut samples = Vec::new();
    for _ in 0..300 {
        samples.push(first_event(&client, &base, &run_id).await);
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!();
    println!(
        "time to first event (POST observe of a finished run, new request each time): p50 {:?}, p99 {:?}, max {:?}",
        at(0.5),
        at(0.99),
        samples[samples.len() - 1]
    );
}

fn report(scenario: &str, observers: usize, events: u64, wall: Duration) {
    let total = events * observers as u64;
    println!(
        "| {scenario} | {observers} | {events} | {total} | {:.1} ms | {:.0} |",
        wall.as_secs_f64() * 1e3,
        total as f64 / wall.as_secs_f64()
    );
}

/// A finished run of `count to <count>`, and how many events its log holds.
async fn finished_run(mastra: &Mastra, count: u64) -> (String, u64) {
    let durable = mastra.durable_agent(AGENT).expect("agent");
    let stream = durable
        .stream(format!("count to {count}"), StreamOptions::new())
        .await
        .expect("run");
    let run_id = stream.run_id().to_owned();
    stream.output().await.expect("output");
    let events = durable
        .context()
        .channel
        .log_len(&run_id)
        .await
        .expect("log");
    (run_id, events)
}

async fn replay(
    client: &reqwest::Client,
    base: &str,
    run_id: &str,
    observers: usize,
    events: u64,
) -> Duration {
    let started = Instant::now();
    let readers: Vec<_> = (0..observers)
        .map(|_| {
            tokio::spawn(count_blocks(
                client.clone(),
                base.to_owned(),
                run_id.to_owned(),
            ))
        })
        .collect();
    for reader in readers {
        assert_eq!(reader.await.expect("reader"), events);
    }
    started.elapsed()
}

/// Observers join a run as it starts and follow it live to its end.
async fn live(
    mastra: &Mastra,
    client: &reqwest::Client,
    base: &str,
    observers: usize,
    count: u64,
) -> (u64, Duration) {
    let durable = mastra.durable_agent(AGENT).expect("agent");
    let started = Instant::now();
    let stream = durable
        .stream(format!("count to {count}"), StreamOptions::new())
        .await
        .expect("run");
    let run_id = stream.run_id().to_owned();
    drop(stream);
    let readers: Vec<_> = (0..observers)
        .map(|_| {
            tokio::spawn(count_blocks(
                client.clone(),
                base.to_owned(),
                run_id.clone(),
            ))
        })
        .collect();
    let mut events = None;
    for reader in readers {
        let seen = reader.await.expect("reader");
        assert!(events.is_none_or(|e| e == seen));
        events = Some(seen);
    }
    (events.unwrap_or_default(), started.elapsed())
}

/// Reads one observe response to its end; returns the number of envelopes (blocks before
/// `[DONE]`).
async fn count_blocks(client: reqwest::Client, base: String, run_id: String) -> u64 {
    let response = client
        .post(format!("{base}/observe"))
        .json(&json!({"runId": run_id, "offset": 0}))
        .send()
        .await
        .expect("observe");
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let (mut blocks, mut previous) = (0u64, 0u8);
    while let Some(bytes) = body.next().await {
        let bytes = bytes.expect("body");
        for &byte in bytes.iter() {
            if byte == b'\n' && previous == b'\n' {
                blocks += 1;
            }
            previous = byte;
        }
    }
    blocks - 1 // [DONE]
}

async fn first_event(client: &reqwest::Client, base: &str, run_id: &str) -> Duration {
    let started = Instant::now();
    let response = client
        .post(format!("{base}/observe"))
        .json(&json!({"runId": run_id, "offset": 0}))
        .send()
        .await
        .expect("observe");
    let mut body = response.bytes_stream();
    let first = body.next().await.expect("a first chunk").expect("body");
    let elapsed = started.elapsed();
    assert!(first.starts_with(b"data: {"));
    // Read the rest, so the connection goes back to the pool.
    while body.next().await.is_some() {}
    elapsed
}
