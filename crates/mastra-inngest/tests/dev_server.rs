//! End to end against a real Inngest dev server. No dev server can be installed on the
//! machines this crate is built on, so this test is `#[ignore]`d and CI never runs it.
//! Run it by hand with a dev server started as `inngest dev --no-discovery`:
//!
//! ```text
//! INNGEST_DEV_URL=http://127.0.0.1:8288 cargo test -p mastra-inngest --test dev_server -- --ignored
//! ```
//!
//! `INNGEST_APP_ORIGIN` sets the origin the dev server calls back (default
//! `http://127.0.0.1:<port>`). Run without `INNGEST_DEV_URL`, it fails loudly rather than
//! passing by skipping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_inngest::{serve, Config, Event, Inngest};
use serde_json::{json, Value};
use std::time::Duration;
use support::trace_app::{trace_functions, APP_ID};

#[tokio::test]
#[ignore = "needs a real Inngest dev server at INNGEST_DEV_URL"]
async fn agent_loop_and_flaky_step_run_on_a_real_dev_server() {
    let dev_url = std::env::var("INNGEST_DEV_URL")
        .expect("set INNGEST_DEV_URL to a running Inngest dev server to run this test");
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = Config::dev(APP_ID, &dev_url);
    config.serve_origin = Some(
        std::env::var("INNGEST_APP_ORIGIN").unwrap_or_else(|_| format!("http://127.0.0.1:{port}")),
    );
    let inngest = Inngest::new(config);
    let app = serve(&inngest, trace_functions());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let http = reqwest::Client::new();
    let synced = http
        .put(format!("http://127.0.0.1:{port}/api/inngest"))
        .send()
        .await
        .unwrap();
    assert_eq!(synced.status(), 200, "{}", synced.text().await.unwrap());

    for (name, expected) in [
        ("agent-loop", json!(3)),
        (
            "three-steps",
            json!({"joined": "first answer + second answer"}),
        ),
    ] {
        let event = Event::new(format!("traces/{name}"), json!({"fn": name}));
        let ids = inngest.send(&[event]).await.unwrap();
        let output = wait_for_output(&http, &dev_url, &ids[0]).await;
        let got = if name == "agent-loop" {
            &output["iterations"]
        } else {
            &output["c"]
        };
        assert_eq!(got, &expected, "{name}: {output}");
    }
}

/// Polls `/v1/events/{id}/runs` for the run id, then `/v1/runs/{id}` until it ended
/// (`Failed` on the events endpoint is not terminal while `ended_at` is null).
async fn wait_for_output(http: &reqwest::Client, dev_url: &str, event_id: &str) -> Value {
    for _ in 0..600 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let runs: Value = http
            .get(format!("{dev_url}/v1/events/{event_id}/runs"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let Some(run_id) = runs["data"][0]["run_id"].as_str() else {
            continue;
        };
        let run: Value = http
            .get(format!("{dev_url}/v1/runs/{run_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match run["data"]["status"].as_str() {
            Some("Completed") => return run["data"]["output"].clone(),
            Some("Failed") | Some("Cancelled") => panic!("run {run_id} ended: {run}"),
            _ => {}
        }
    }
    panic!("no terminal run for event {event_id} within 2 minutes");
}
