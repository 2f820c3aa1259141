//! Interop with the official client: `@mastra/client-js@1.47.0` (pinned in
//! `tests/interop/package.json`, npm-installed into a temporary folder) lists agents,
//! reads details, generates, streams and observes a run from an offset against our
//! server, and what it saw matches the run's log read here. Node and npm must be present.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod npm;
mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::{chunk_type_of, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_lists_generates_streams_and_observes() {
    let project = tokio::task::spawn_blocking(|| {
        npm::NodeProject::install("interop", "interop", &["package.json", "interop.mjs"])
    })
    .await
    .unwrap();
    let server = TestServer::demo().await;
    let root = server.base.trim_end_matches("/api").to_owned();
    let stdout = project
        .run("interop.mjs", &[&root], Duration::from_secs(60))
        .await;
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        summary["agents"],
        json!(["approval-agent", "demo-agent", "plain-agent"])
    );
    assert_eq!(summary["generateText"], "1 2 3 4 5");

    // The chunks it streamed are the run's log, event for event.
    let run_id = summary["runId"].as_str().unwrap();
    let logged = server
        .post_sse(
            "/agents/demo-agent/observe",
            json!({ "runId": run_id, "offset": 0 }),
        )
        .await;
    let logged_chunk_types: Vec<Value> = logged.iter().map(|e| json!(chunk_type_of(e))).collect();
    assert_eq!(summary["chunkTypes"], json!(logged_chunk_types));
    // Observing from 3 gave exactly the envelopes from index 3 on.
    let from_three: Vec<Value> = logged[3..].iter().map(|e| e["index"].clone()).collect();
    assert_eq!(summary["observedIndices"], json!(from_three));
    let types: Vec<Value> = logged[3..].iter().map(|e| e["type"].clone()).collect();
    assert_eq!(summary["observedTypes"], json!(types));
    server.shutdown.trigger();
}
