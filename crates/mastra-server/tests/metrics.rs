//! `GET /api/metrics`: the durable counters in the Prometheus text format.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::*;

fn sample(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_run_moves_the_counters() {
    let server = TestServer::demo().await;
    let before = server.get("/metrics").await;
    assert_eq!(before.status(), 200);
    assert!(before.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let before = before.text().await.unwrap();

    let chunks = server
        .post_sse(
            "/agents/demo-agent/stream",
            json!({"messages": "count to 3"}),
        )
        .await;
    assert_eq!(types(&chunks).last().unwrap(), "finish");
    let run_id = chunks[0]["runId"].as_str().unwrap();
    let replayed = server
        .post_sse(
            "/agents/demo-agent/observe",
            json!({"runId": run_id, "offset": 2}),
        )
        .await;
    assert!(!replayed.is_empty());

    let after = server.get("/metrics").await.text().await.unwrap();
    let appended = sample(&after, "mastra_events_appended_total")
        - sample(&before, "mastra_events_appended_total");
    // Every chunk of the run was logged (the run's lifecycle events too).
    assert!(
        appended >= chunks.len() as u64,
        "{appended} < {}",
        chunks.len()
    );
    assert!(
        sample(&after, "mastra_observer_joins_total")
            > sample(&before, "mastra_observer_joins_total")
    );
}
