#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! The workloads binary, on small sizes: every workload reads every chunk, the figures are
//! there, and a Redis run leaves no key behind.

use serde_json::Value;
use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_peer_workloads"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn small_run(backend: &str) -> Value {
    let out = run(&[
        "--backend",
        backend,
        "--big",
        "40",
        "--small",
        "3",
        "--sequential",
        "4",
        "--concurrent",
        "5",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// A run of n deltas streams start, step-start, text-start, n deltas, text-end,
/// step-finish and finish.
fn check_counts(figures: &Value) {
    assert_eq!(figures["w1"]["chunks"], 46);
    assert_eq!(figures["w2_offset0"]["chunks"], 46);
    let middle = figures["w2_middle"]["offset"].as_u64().unwrap();
    assert!(middle > 0, "{figures}");
    assert!(figures["w2_middle"]["chunks"].as_u64().unwrap() < 46);
    assert_eq!(figures["w3_sequential"]["chunks"], 4 * 9);
    assert_eq!(figures["w3_concurrent"]["chunks"], 5 * 9);
    for path in [
        ["w1", "ms"],
        ["w3_sequential", "runs_per_s"],
        ["w3_concurrent", "runs_per_s"],
    ] {
        assert!(
            figures[path[0]][path[1]].as_f64().unwrap() > 0.0,
            "{figures}"
        );
    }
    assert!(figures["peak_rss_mb"].as_f64().unwrap() > 0.0, "{figures}");
}

#[test]
fn in_memory_every_workload_reads_every_chunk() {
    let figures = small_run("memory");
    assert_eq!(figures["backend"], "memory");
    check_counts(&figures);
}

#[tokio::test]
async fn with_redis_every_chunk_is_read_and_no_key_is_left() {
    let figures = small_run("redis");
    check_counts(&figures);
    let prefix = figures["key_prefix"].as_str().unwrap().to_owned();
    assert!(prefix.starts_with("mastra-peers:"), "{prefix}");
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys, Vec::<String>::new());
}

#[test]
fn bad_arguments_are_refused_with_a_reason() {
    let out = run(&["--backend", "postgres"]);
    assert_eq!(out.status.code(), Some(2));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("not one of memory, redis, redis-pubsub"),
        "{message}"
    );
    let out = run(&["--big", "many"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`many` is not a count"));
}
