//! A run continued by another worker after a crash, as the client sees it: a fake server
//! answers `/stream` with the first worker's chunks and then breaks the body off; the
//! client continues with `/observe`, whose log holds the new owner's `ownership-claimed`
//! (void from index 1), the re-run step, and one stale event of the first worker. The
//! assembled text is the text of a run without a crash, and the stale event never
//! reaches the caller.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::routing::post;
use axum::Json;
use futures::StreamExt;
use mastra_client::{AgentRequest, MastraClient, RetryPolicy};
use mastra_core::ChunkKind;
use serde_json::{json, Value};
use std::time::Duration;

const RUN: &str = "run-claimed";

fn chunk(chunk_type: &str, payload: Value) -> Value {
    json!({"type": chunk_type, "runId": RUN, "from": "AGENT", "payload": payload})
}

fn delta(text: &str) -> Value {
    chunk("text-delta", json!({"id": "t", "text": text}))
}

fn envelope(index: u64, kind: &str, data: Value, generation: Option<u64>) -> Value {
    let mut envelope = json!({"index": index, "type": kind, "runId": RUN, "data": data,
        "id": format!("e{index}"), "createdAt": "2026-11-29T16:00:00.000Z"});
    if let Some(generation) = generation {
        envelope["generation"] = json!(generation);
    }
    envelope
}

/// The run's log: generation 1 streamed "1 2" and died; generation 2 re-ran the step;
/// the first worker, continued after a stop, wrote " 3" once more (index 5, stale).
fn log() -> Vec<Value> {
    let finish = json!({"output": {"text": "1 2 3", "usage": {"inputTokens": 1, "outputTokens": 3, "totalTokens": 4}},
        "stepResult": {"reason": "stop", "warnings": [], "isContinued": false}});
    vec![
        envelope(
            0,
            "chunk",
            chunk("start", json!({"id": "demo-agent", "messageId": "m"})),
            None,
        ),
        envelope(1, "chunk", delta("1"), Some(1)),
        envelope(2, "chunk", delta(" 2"), Some(1)),
        envelope(
            3,
            "ownership-claimed",
            json!({"generation": 2, "voidFrom": 1, "step": 0}),
            Some(2),
        ),
        envelope(4, "chunk", delta("1"), Some(2)),
        envelope(5, "chunk", delta(" 3"), Some(1)),
        envelope(6, "chunk", delta(" 2"), Some(2)),
        envelope(7, "chunk", delta(" 3"), Some(2)),
        envelope(8, "finish", finish, Some(2)),
    ]
}

fn sse(blocks: impl IntoIterator<Item = String>) -> String {
    blocks
        .into_iter()
        .map(|data| format!("data: {data}\n\n"))
        .collect()
}

async fn fake_server() -> String {
    let app = axum::Router::new()
        .route(
            "/api/agents/demo-agent/stream",
            // The first worker's chunks, then the body ends without `[DONE]`: lost.
            post(|| async {
                let frames = log()[..3]
                    .iter()
                    .map(|e| e["data"].to_string())
                    .collect::<Vec<_>>();
                ([("content-type", "text/event-stream")], sse(frames))
            }),
        )
        .route(
            "/api/agents/demo-agent/observe",
            post(|Json(body): Json<Value>| async move {
                let offset = body["offset"].as_u64().unwrap_or(0) as usize;
                let frames = log()[offset..]
                    .iter()
                    .map(Value::to_string)
                    .chain(["[DONE]".to_owned()])
                    .collect::<Vec<_>>();
                ([("content-type", "text/event-stream")], sse(frames))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn client(url: &str) -> MastraClient {
    let retry = RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    };
    MastraClient::new(url).unwrap().with_retry(retry)
}

#[tokio::test]
async fn a_stream_continued_through_observe_applies_the_claim() {
    let url = fake_server().await;
    let request = AgentRequest::new("count to 3").run_id(RUN);
    let mut stream = client(&url).stream("demo-agent", &request).await.unwrap();
    let mut deltas = Vec::new();
    while let Some(chunk) = stream.next().await {
        if let ChunkKind::TextDelta(delta) = chunk.unwrap().kind {
            deltas.push(delta.text);
        }
    }
    // Everything but the stale " 3" of the first worker reached the caller.
    assert_eq!(deltas, ["1", " 2", "1", " 2", " 3"]);

    let stream = client(&url).stream("demo-agent", &request).await.unwrap();
    let assembled = stream.assemble().await.unwrap();
    assert_eq!(assembled.text(), "1 2 3");
    assert_eq!(assembled.claims(), 1);
    assert_eq!(assembled.generation(), Some(2));
    assert!(assembled.is_finished());

    let stream = client(&url).stream("demo-agent", &request).await.unwrap();
    assert_eq!(stream.text().await.unwrap(), "1 2 3");
}

#[tokio::test]
async fn observe_assembles_the_text_of_a_run_without_a_crash() {
    let url = fake_server().await;
    let observed = client(&url)
        .observe("demo-agent", RUN, 0)
        .assemble()
        .await
        .unwrap();
    assert_eq!(observed.text(), "1 2 3");
    assert_eq!(observed.claims(), 1);
    // From an offset past the void part, only the re-run counts.
    let tail = client(&url)
        .observe("demo-agent", RUN, 3)
        .assemble()
        .await
        .unwrap();
    assert_eq!(tail.text(), "1 2 3");
}
