//! Bad input, authentication and resource scoping: every refusal is a 4xx with a JSON
//! `{"error": ".."}` body, at once (never a hang).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_server::ServerConfig;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::*;

/// Asserts the status and a JSON error body, answered within seconds.
async fn assert_error(request: reqwest::RequestBuilder, status: u16, what: &str) -> String {
    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(5), request.send())
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer"))
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "{what}: slow");
    assert_eq!(response.status(), status, "{what}");
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: {body}"))
        .to_owned()
}

#[tokio::test]
async fn bad_requests_are_400_with_json_errors() {
    let server = TestServer::demo().await;
    let post_raw = |path: &str, body: &'static str| {
        server
            .client
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(body)
    };
    for route in ["generate", "stream"] {
        let path = format!("/agents/demo-agent/{route}");
        assert_error(post_raw(&path, "{not json"), 400, "malformed").await;
        assert_error(post_raw(&path, r#"{"runId":"x"}"#), 400, "no messages").await;
        let why = assert_error(post_raw(&path, r#"{"messages":42}"#), 400, "42").await;
        assert!(why.contains("messages"), "{why}");
        assert_error(post_raw(&path, ""), 400, "empty body").await;
        let negative = r#"{"messages":"hi","maxSteps":-1}"#;
        assert_error(post_raw(&path, negative), 400, "negative maxSteps").await;
    }
    let observe = "/agents/demo-agent/observe";
    assert_error(post_raw(observe, r#"{"offset":1}"#), 400, "no runId").await;
    for offset in ["-1", "1.5", "\"2\"", "true"] {
        let body: &'static str =
            Box::leak(format!(r#"{{"runId":"r","offset":{offset}}}"#).into_boxed_str());
        assert_error(post_raw(observe, body), 400, offset).await;
    }
    for query in ["runId=r&offset=-1", "runId=r&offset=1.5", "offset=1"] {
        let url = server.url(&format!("{observe}?{query}"));
        assert_error(server.client.get(url), 400, query).await;
    }
}

#[tokio::test]
async fn unknown_agents_runs_and_routes_are_404_at_once() {
    let server = TestServer::demo().await;
    let body = json!({"messages": "hi", "runId": "nope", "toolCallId": "c"});
    for route in [
        "generate",
        "stream",
        "observe",
        "abort",
        "approve-tool-call",
    ] {
        let request = server
            .client
            .post(server.url(&format!("/agents/ghost/{route}")))
            .json(&body);
        let why = assert_error(request, 404, route).await;
        assert!(why.contains("ghost"), "{why}");
    }
    assert_error(
        server.client.get(server.url("/agents/ghost")),
        404,
        "details",
    )
    .await;
    for route in ["observe", "abort", "approve-tool-call", "resume-stream"] {
        let request = server
            .client
            .post(server.url(&format!("/agents/demo-agent/{route}")))
            .json(&json!({"runId": "no-such-run", "toolCallId": "c", "offset": 0}));
        assert_error(request, 404, route).await;
    }
    let url = server.url("/agents/demo-agent/observe?runId=no-such-run");
    assert_error(server.client.get(url), 404, "GET observe").await;
    assert_error(server.client.get(server.url("/nowhere")), 404, "route").await;
    let wrong_method = server.client.get(server.url("/agents/demo-agent/stream"));
    assert_error(wrong_method, 405, "method").await;
    // Plain agents cannot be observed.
    let plain = server
        .client
        .post(server.url("/agents/plain-agent/observe"))
        .json(&json!({"runId": "r"}));
    assert_error(plain, 400, "plain observe").await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let server = TestServer::start(demo_mastra(), test_config().body_limit(1024)).await;
    let big = json!({"messages": "x".repeat(4096)});
    for route in ["generate", "stream", "observe"] {
        let request = server
            .client
            .post(server.url(&format!("/agents/demo-agent/{route}")))
            .json(&big);
        assert_error(request, 413, route).await;
    }
    let small = server
        .post(
            "/agents/demo-agent/generate",
            json!({"messages": "count to 2"}),
        )
        .await;
    assert_eq!(small.status(), 200);
}

#[tokio::test]
async fn bearer_tokens_are_required_when_configured() {
    let config = test_config()
        .tokens(["secret-1", "secret-2"])
        .resource_token("alice-token", "alice");
    let server = TestServer::start(demo_mastra(), config).await;
    let agents = server.url("/agents");
    assert_error(server.client.get(&agents), 401, "no token").await;
    let wrong = server.client.get(&agents).bearer_auth("secret-3");
    assert_error(wrong, 401, "wrong token").await;
    let basic = server
        .client
        .get(&agents)
        .basic_auth("secret-1", None::<&str>);
    assert_error(basic, 401, "basic").await;
    let stream = server
        .client
        .post(server.url("/agents/demo-agent/stream"))
        .json(&json!({"messages": "count to 2"}));
    assert_error(stream, 401, "stream without token").await;

    for token in ["secret-1", "secret-2"] {
        let ok = server.client.get(&agents).bearer_auth(token).send().await;
        assert_eq!(ok.unwrap().status(), 200);
    }

    // A token bound to a resource acts for it: its runs are invisible to others.
    let output: Value = server
        .client
        .post(server.url("/agents/demo-agent/generate"))
        .bearer_auth("alice-token")
        .json(&json!({"messages": "count to 2"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(output["resourceId"], "alice");
    let run = json!({"runId": output["runId"]});
    let observe = server.url("/agents/demo-agent/observe");
    let other = server
        .client
        .post(&observe)
        .bearer_auth("secret-1")
        .json(&run);
    assert_error(other, 404, "another resource's run").await;
    let own = server
        .client
        .post(&observe)
        .bearer_auth("alice-token")
        .json(&run);
    assert_eq!(own.send().await.unwrap().status(), 200);
    let pretending = server
        .client
        .post(server.url("/agents/demo-agent/generate"))
        .bearer_auth("alice-token")
        .json(&json!({"messages": "hi", "memory": {"resource": "bob"}}));
    assert_error(pretending, 403, "bound token naming another resource").await;
}

#[tokio::test]
async fn another_resources_run_is_not_found() {
    let config = ServerConfig::new().resource_context_key("tenant");
    let server = TestServer::start(demo_mastra(), config).await;
    let chunks = server
        .post_sse(
            "/agents/approval-agent/stream",
            json!({"messages": "weather in Lima", "memory": {"thread": "t", "resource": {"id": "alice"}}}),
        )
        .await;
    let approval = chunks.last().unwrap();
    let run_id = approval["runId"].as_str().unwrap();
    let call_id = approval["payload"]["toolCallId"].as_str().unwrap();

    let as_bob = json!({"runId": run_id, "toolCallId": call_id, "resourceId": "bob"});
    let anonymous = json!({"runId": run_id, "toolCallId": call_id});
    for body in [&as_bob, &anonymous] {
        for route in ["observe", "abort", "approve-tool-call", "decline-tool-call"] {
            let request = server
                .client
                .post(server.url(&format!("/agents/approval-agent/{route}")))
                .json(body);
            assert_error(request, 404, route).await;
        }
    }
    let url = server.url(&format!(
        "/agents/approval-agent/observe?runId={run_id}&resourceId=bob"
    ));
    assert_error(server.client.get(url), 404, "GET observe as bob").await;
    // The run is reachable only through the agent that started it.
    let other_agent = server
        .client
        .post(server.url("/agents/demo-agent/observe"))
        .json(&json!({"runId": run_id, "resourceId": "alice"}));
    assert_error(other_agent, 404, "through another agent").await;

    // Alice, named in requestContext, answers her own run.
    let rest = server
        .post_sse(
            "/agents/approval-agent/approve-tool-call",
            json!({"runId": run_id, "toolCallId": call_id, "requestContext": {"tenant": "alice"}}),
        )
        .await;
    assert_eq!(types(&rest).last().unwrap(), "finish");
}
