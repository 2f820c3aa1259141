//! Approvals, declines and aborts over HTTP: a run that needs approval ends `/stream` at
//! `tool-call-approval`; `approve-tool-call` streams the rest; `abort` ends a run wherever
//! it stands.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

/// Starts a run of `approval-agent` and reads its stream, which ends at the pause.
async fn paused_run(server: &TestServer) -> (String, String) {
    let chunks = server
        .post_sse(
            "/agents/approval-agent/stream",
            json!({"messages": "weather in Paris"}),
        )
        .await;
    let types = types(&chunks);
    assert_eq!(types.last().unwrap(), "tool-call-approval", "{types:?}");
    assert!(!types.contains(&"tool-result".to_owned()));
    let approval = chunks.last().unwrap();
    assert_eq!(approval["payload"]["toolName"], "weather");
    assert_eq!(approval["payload"]["args"], json!({"city": "Paris"}));
    let run_id = approval["runId"].as_str().unwrap().to_owned();
    let call_id = approval["payload"]["toolCallId"]
        .as_str()
        .unwrap()
        .to_owned();
    (run_id, call_id)
}

#[tokio::test]
async fn approving_a_paused_run_streams_the_rest() {
    let server = TestServer::demo().await;
    let (run_id, call_id) = paused_run(&server).await;

    let rest = server
        .post_sse(
            "/agents/approval-agent/approve-tool-call",
            json!({"runId": run_id, "toolCallId": call_id}),
        )
        .await;
    let types = types(&rest);
    assert_eq!(types.first().unwrap(), "tool-result", "{types:?}");
    assert_eq!(types.last().unwrap(), "finish");
    assert!(rest.iter().all(|c| c["runId"] == run_id.as_str()));
    assert_eq!(
        rest.last().unwrap()["payload"]["stepResult"]["reason"],
        "stop"
    );
    assert!(text_of(&rest).contains("Paris"));

    // Answered once: a second answer finds no paused run.
    let again = server
        .post(
            "/agents/approval-agent/approve-tool-call",
            json!({"runId": run_id, "toolCallId": call_id}),
        )
        .await;
    assert_eq!(again.status(), 409);
    assert!(again.json::<Value>().await.unwrap()["error"].is_string());

    // The log holds the pause (not ending observe) and exactly one finish.
    let log = server
        .post_sse("/agents/approval-agent/observe", json!({"runId": run_id}))
        .await;
    let kinds: Vec<&str> = log.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "suspended").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "finish").count(), 1);
    assert_eq!(*kinds.last().unwrap(), "finish");
}

#[tokio::test]
async fn declining_lets_the_model_go_on_and_generate_reports_the_pause() {
    let server = TestServer::demo().await;
    let output: Value = server
        .post(
            "/agents/approval-agent/generate",
            json!({"messages": "weather in Rome"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(output["finishReason"], "suspended");
    let run_id = output["runId"].as_str().unwrap();
    let call_id = output["toolCalls"][0]["toolCallId"].as_str().unwrap();
    assert_eq!(output["toolCalls"][0]["toolName"], "weather");

    // Answers that do not fit what the run waits on are the caller's mistake.
    for (route, body) in [
        ("approve-tool-call", json!({"runId": run_id})),
        (
            "approve-tool-call",
            json!({"runId": run_id, "toolCallId": "nope"}),
        ),
        (
            "resume-stream",
            json!({"runId": run_id, "resumeData": {"ok": true}}),
        ),
    ] {
        let response = server
            .post(&format!("/agents/approval-agent/{route}"), body)
            .await;
        assert_eq!(response.status(), 400, "{route}");
        assert!(response.json::<Value>().await.unwrap()["error"].is_string());
    }

    let rest = server
        .post_sse(
            "/agents/approval-agent/decline-tool-call",
            json!({"runId": run_id, "toolCallId": call_id}),
        )
        .await;
    assert_eq!(types(&rest).last().unwrap(), "finish");
}

#[tokio::test]
async fn answering_a_run_that_is_not_paused_is_a_conflict() {
    let server = TestServer::demo().await;
    let response = server
        .post(
            "/agents/demo-agent/stream",
            json!({"messages": "count to 200"}),
        )
        .await;
    let mut reader = SseReader::new(response);
    let run_id = reader.next_data().await.unwrap()["runId"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"runId": run_id, "toolCallId": "call_1"});
    let running = server
        .post("/agents/demo-agent/approve-tool-call", body.clone())
        .await;
    assert_eq!(running.status(), 409);

    let unknown = server
        .post(
            "/agents/demo-agent/approve-tool-call",
            json!({"runId": "no-such-run", "toolCallId": "call_1"}),
        )
        .await;
    assert_eq!(unknown.status(), 404);
    let plain = server
        .post("/agents/plain-agent/approve-tool-call", body)
        .await;
    assert_eq!(plain.status(), 400);
    assert!(plain.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("not durable"));
}

#[tokio::test]
async fn abort_ends_a_running_run_and_a_paused_one() {
    let server = TestServer::demo().await;
    let response = server
        .post(
            "/agents/demo-agent/stream",
            json!({"messages": "count to 500"}),
        )
        .await;
    let mut reader = SseReader::new(response);
    let run_id = reader.next_data().await.unwrap()["runId"]
        .as_str()
        .unwrap()
        .to_owned();
    reader.next_data().await.unwrap();

    let aborted = server
        .post("/agents/demo-agent/abort", json!({"runId": run_id}))
        .await;
    assert_eq!(aborted.status(), 200);
    let answer: Value = aborted.json().await.unwrap();
    assert_eq!(answer, json!({"runId": run_id, "status": "aborting"}));
    let mut rest = Vec::new();
    while let Some(chunk) = reader.next_data().await {
        rest.push(chunk);
    }
    let finish = rest.last().unwrap();
    assert_eq!(finish["type"], "finish");
    assert_eq!(finish["payload"]["stepResult"]["reason"], "abort");

    let finished = server
        .post("/agents/demo-agent/abort", json!({"runId": run_id}))
        .await;
    assert_eq!(finished.status(), 409);
    let unknown = server
        .post("/agents/demo-agent/abort", json!({"runId": "nope"}))
        .await;
    assert_eq!(unknown.status(), 404);
    let plain = server
        .post("/agents/plain-agent/abort", json!({"runId": run_id}))
        .await;
    assert_eq!(plain.status(), 400);

    let (paused, _) = paused_run(&server).await;
    let aborted = server
        .post("/agents/approval-agent/abort", json!({"runId": paused}))
        .await;
    assert_eq!(aborted.status(), 200);
    let log = server
        .post_sse("/agents/approval-agent/observe", json!({"runId": paused}))
        .await;
    let last = log.last().unwrap();
    assert_eq!(last["type"], "finish");
    assert_eq!(last["data"]["stepResult"]["reason"], "abort");
}
