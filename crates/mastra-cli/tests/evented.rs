//! `mastra serve --engine evented` in memory (one process): `demo-agent` runs as queued
//! steps taken by the process's own workers; the routes and the Rust client work as with
//! the local engine; it stops cleanly on SIGTERM. Engine options without their engine are
//! refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_client::{AgentRequest, MastraClient};
use serde_json::{json, Value};
use std::process::Command;
use support::Serve;

#[tokio::test]
async fn an_evented_instance_in_memory_runs_the_demo_agent() {
    let server = Serve::start(
        &[
            "--engine",
            "evented",
            "--workers",
            "3",
            "--demo-delay-ms",
            "0",
        ],
        &[],
    );
    assert!(
        server
            .banner
            .contains("in memory; evented engine, 3 workers"),
        "{}",
        server.banner
    );
    let output: Value = reqwest::Client::new()
        .post(format!("{}/api/agents/demo-agent/generate", server.url))
        .json(&json!({"messages": "calculate 2 * (3 + 4)"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(output["text"], "2 * (3 + 4) = 14");
    assert_eq!(output["steps"].as_array().unwrap().len(), 2);

    let client = MastraClient::new(&server.url).unwrap();
    let stream = client
        .stream("demo-agent", &AgentRequest::new("count to 12"))
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    let text = stream.text().await.unwrap();
    assert_eq!(text, "1 2 3 4 5 6 7 8 9 10 11 12");
    let replay = client
        .observe("demo-agent", &run_id, 0)
        .assemble()
        .await
        .unwrap();
    assert_eq!(replay.text(), text);
    assert!(replay.is_finished());

    // SIGTERM: the server stops, the workers finish their step and stop, exit code 0.
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn engine_options_without_their_engine_are_refused() {
    for (args, message) in [
        (
            &["serve", "--no-workers"][..],
            "--no-workers needs --engine evented",
        ),
        (
            &["serve", "--engine", "evented", "--inngest"],
            "does not go with",
        ),
        (
            &["serve", "--engine", "queue"],
            "not one of local, evented, inngest",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_mastra"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
