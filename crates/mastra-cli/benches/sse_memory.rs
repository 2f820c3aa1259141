//! Memory per open SSE connection: `mastra serve` runs as its own process, a run streams
//! slowly, and this bench opens N observers of it and reads the server's resident memory
//! (`VmRSS` in `/proc/<pid>/status`) before and after.
//!
//! `cargo bench -p mastra-cli --bench sse_memory`

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark may stop at a broken setup

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Open observers per round (kept under the usual 1,024 open-file limit).
const OBSERVERS: usize = 400;

fn resident_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn main() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_mastra"))
        .args(["serve", "--port", "0", "--demo-delay-ms", "200"])
        .env_remove("MASTRA_API_TOKENS")
        .env_remove("REDIS_URL")
        .stdout(Stdio::piped())
        .spawn()
        .expect("mastra serve");
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let pid = server.id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rows = rt.block_on(async move {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        // A run that streams for minutes (one number every 200 ms).
        let run_id = uuid_like();
        let stream = http
            .post(format!("{base}/agents/demo-agent/stream"))
            .json(&serde_json::json!({"messages": "count to 5000", "runId": run_id}))
            .send()
            .await
            .unwrap();
        drop(stream);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut rows = Vec::new();
        for round in 1..=3 {
            let before = resident_kb(pid);
            let mut open = Vec::with_capacity(OBSERVERS);
            for _ in 0..OBSERVERS {
                let response = http
                    .post(format!("{base}/agents/demo-agent/observe"))
                    .json(&serde_json::json!({"runId": run_id, "offset": 0}))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                open.push(response);
            }
            // Let every observer replay the log so far and settle into following it live.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let after = resident_kb(pid);
            rows.push((round, before, after));
            drop(open);
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        rows
    });
    let _ = server.kill();
    let _ = server.wait();
    println!("\nmemory per open SSE observe connection ({OBSERVERS} observers of one live run, server process RSS)");
    println!("| round | RSS before | RSS with observers | per connection |");
    println!("|---|---|---|---|");
    for (round, before, after) in rows {
        println!(
            "| {round} | {:.1} MB | {:.1} MB | {:.1} KB |",
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            after.saturating_sub(before) as f64 / OBSERVERS as f64
        );
    }
}

/// A run id unique enough for one bench process.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("bench-{nanos:x}")
}
