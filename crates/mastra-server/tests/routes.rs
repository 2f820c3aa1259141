//! The agent routes against a real server: listing, generate, stream (chunk order, `runId`
//! on every chunk, `[DONE]`), and plain agents.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

#[tokio::test]
async fn lists_agents_with_their_tools() {
    let server = TestServer::demo().await;
    let response = server.get("/agents").await;
    assert_eq!(response.status(), 200);
    let agents: Value = response.json().await.unwrap();
    let ids: Vec<&String> = agents.as_object().unwrap().keys().collect();
    assert_eq!(ids, ["approval-agent", "demo-agent", "plain-agent"]);
    let demo = &agents["demo-agent"];
    assert_eq!(demo["name"], "demo-agent");
    assert_eq!(demo["instructions"], "You are a demo");
    assert_eq!(demo["durable"], true);
    assert_eq!(demo["tools"]["weather"]["id"], "weather");
    assert!(demo["tools"]["calculator"]["description"].is_string());
    assert_eq!(
        demo["tools"]["weather"]["inputSchema"]["required"],
        json!(["city"])
    );
    assert_eq!(agents["plain-agent"]["durable"], false);
    assert_eq!(
        agents["approval-agent"]["tools"]["weather"]["requireApproval"],
        true
    );

    let details: Value = server.get("/agents/demo-agent").await.json().await.unwrap();
    assert_eq!(&details, demo);
}

#[tokio::test]
async fn generate_gives_the_text_that_stream_gives() {
    let server = TestServer::demo().await;
    for prompt in ["count to 7", "weather in Paris", "calculate 2 * (3 + 4.5)"] {
        for agent in ["demo-agent", "plain-agent"] {
            let response = server
                .post(
                    &format!("/agents/{agent}/generate"),
                    json!({"messages": prompt}),
                )
                .await;
            assert_eq!(response.status(), 200);
            let output: Value = response.json().await.unwrap();
            let chunks = server
                .post_sse(
                    &format!("/agents/{agent}/stream"),
                    json!({"messages": [{"role": "user", "content": prompt}]}),
                )
                .await;
            assert_eq!(output["text"], text_of(&chunks), "{agent}: {prompt}");
            assert_eq!(output["finishReason"], "stop");
            assert!(!output["runId"].as_str().unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn stream_sends_chunks_in_order_each_with_the_run_id() {
    let server = TestServer::demo().await;
    for agent in ["demo-agent", "plain-agent"] {
        let chunks = server
            .post_sse(
                &format!("/agents/{agent}/stream"),
                json!({"messages": "weather in Oslo", "unknownField": {"x": 1}}),
            )
            .await;
        let run_id = chunks[0]["runId"].as_str().unwrap().to_owned();
        assert_eq!(run_id.len(), 36, "a UUID: {run_id}");
        for chunk in &chunks {
            assert_eq!(chunk["runId"], run_id.as_str(), "{chunk}");
            assert_eq!(chunk["from"], "AGENT");
        }
        let types = types(&chunks);
        assert_eq!(types.first().unwrap(), "start");
        assert_eq!(types.last().unwrap(), "finish");
        let position = |t: &str| types.iter().position(|x| x == t).unwrap();
        assert!(position("step-start") < position("tool-call"));
        assert!(position("tool-call") < position("tool-result"));
        assert!(position("tool-result") < position("step-finish"));
        assert!(position("step-finish") < position("text-delta"));
        assert_eq!(types.iter().filter(|t| *t == "step-start").count(), 2);
        assert_eq!(
            chunks.last().unwrap()["payload"]["stepResult"]["reason"],
            "stop"
        );
    }
}

#[tokio::test]
async fn requested_run_ids_and_memory_are_honoured() {
    let server = TestServer::demo().await;
    let body = json!({
        "messages": "count to 3",
        "runId": "my-run-1",
        "maxSteps": 2,
        "memory": {"thread": {"id": "thread-1"}, "resource": "user-1"},
        "requestContext": {"anything": true},
    });
    let output: Value = server
        .post("/agents/demo-agent/generate", body.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(output["runId"], "my-run-1");
    assert_eq!(output["text"], "1 2 3");
    assert_eq!(output["threadId"], "thread-1");
    assert_eq!(output["resourceId"], "user-1");
    // The id is taken now.
    let again = server.post("/agents/demo-agent/stream", body).await;
    assert_eq!(again.status(), 409);
    let error: Value = again.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("my-run-1"));
}

#[tokio::test]
async fn cors_answers_preflights_for_configured_origins() {
    use mastra_server::Cors;
    let config = test_config().cors(Cors::Origins(vec!["https://app.example".into()]));
    let server = TestServer::start(demo_mastra(), config).await;
    let preflight = server
        .client
        .request(
            reqwest::Method::OPTIONS,
            server.url("/agents/demo-agent/stream"),
        )
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let other = server
        .client
        .get(server.url("/agents"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // Without CORS configured, no CORS headers at all.
    let plain = TestServer::demo().await;
    let response = plain
        .client
        .get(plain.url("/agents"))
        .header("Origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn fifty_concurrent_streams_each_get_their_own_run() {
    let server = TestServer::demo().await;
    let streams = (1..=50).map(|n| {
        server.post_sse(
            "/agents/demo-agent/stream",
            json!({"messages": format!("count to {n}")}),
        )
    });
    let results = futures::future::join_all(streams).await;
    let mut run_ids = std::collections::HashSet::new();
    for (n, chunks) in (1..=50).zip(results) {
        let expected: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        assert_eq!(text_of(&chunks), expected.join(" "));
        assert!(run_ids.insert(chunks[0]["runId"].as_str().unwrap().to_owned()));
    }
}
