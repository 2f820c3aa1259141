//! A W3C `traceparent` request header makes the run part of the caller's trace: the run
//! state (which carries the trace across resume, recovery and processes) keeps its trace id.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::*;

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Starts a run of `approval-agent` (it pauses, so its state stays in the run store) with
/// `traceparent` as the request header, and returns the stored state's traceparent.
async fn stored_traceparent(traceparent: Option<&str>) -> String {
    let mastra = demo_mastra();
    let server = TestServer::start(mastra.clone(), test_config()).await;
    let mut request = server
        .client
        .post(server.url("/agents/approval-agent/stream"))
        .json(&json!({"messages": "weather in Paris"}));
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let chunks = SseReader::new(response).data_until_done().await;
    let paused = chunks.last().unwrap();
    assert_eq!(paused["type"], "tool-call-approval");
    let run_id = paused["runId"].as_str().unwrap();
    let durable = mastra.durable_agent("approval-agent").unwrap();
    let record = durable.context().store.load(run_id).await.unwrap().unwrap();
    record.state.traceparent.expect("every run has a trace")
}

fn trace_id(traceparent: &str) -> &str {
    traceparent.split('-').nth(1).unwrap()
}

#[tokio::test]
async fn the_request_trace_becomes_the_runs_trace() {
    let stored = stored_traceparent(Some(PARENT)).await;
    assert_eq!(trace_id(&stored), trace_id(PARENT), "{stored}");
}

#[tokio::test]
async fn without_a_valid_header_the_run_starts_its_own_trace() {
    for header in [None, Some("not-a-traceparent")] {
        let stored = stored_traceparent(header).await;
        assert_ne!(trace_id(&stored), trace_id(PARENT));
        assert_eq!(trace_id(&stored).len(), 32, "{stored}");
    }
}
