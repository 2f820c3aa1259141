//! Differential check against the official JS SDK: every Call Request recorded between a
//! real Inngest dev server and `inngest@4.24.0` (`fixtures/traces`, copied from
//! shared/spec/inngest-traces) is replayed against our endpoint serving the same functions,
//! and the answers are compared after normalising (no `timing`, `stack`, `__serialized`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_inngest::{serve, Config, Inngest};
use serde_json::{json, Value};
use support::executor::FakeInngest;
use support::trace_app::{trace_functions, APP_ID};

const TRACES: &[&str] = &[
    "three-steps",
    "flaky-step",
    "non-retriable",
    "uncaught-step-failure",
    "sleep-and-wait",
    "parallel-steps",
    "agent-loop",
];

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/traces/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An opcode without the fields that legitimately differ between SDKs.
fn normalise_op(op: &Value) -> Value {
    let mut out = json!({
        "id": op["id"], "op": op["op"], "name": op["name"], "displayName": op["displayName"],
        "userland": op["userland"],
    });
    if !op["data"].is_null() && op["op"] == "StepRun" {
        out["data"] = op["data"].clone();
    }
    if let Some(error) = op.get("error") {
        out["error"] = json!({"name": error["name"], "message": error["message"]});
    }
    out
}

fn normalise(status: u16, body: &Value) -> Value {
    match status {
        206 => Value::Array(body.as_array().unwrap().iter().map(normalise_op).collect()),
        400 | 500 => json!({"name": body["name"], "message": body["message"]}),
        _ => body.clone(),
    }
}

/// JS sends Sleep/WaitForEvent data in `name` with a subset of our `opts`: every JS opt
/// must be in ours with the same value.
fn js_opts_are_in_ours(js: &Value, ours: &Value) {
    for (js_op, our_op) in js.as_array().unwrap().iter().zip(ours.as_array().unwrap()) {
        for (key, value) in js_op["opts"].as_object().unwrap() {
            assert_eq!(&our_op["opts"][key], value, "opts.{key} of {}", js_op["op"]);
        }
    }
}

#[tokio::test]
async fn every_recorded_call_request_gets_the_js_sdk_answer() {
    let inngest = Inngest::new(Config::dev(APP_ID, "http://127.0.0.1:9"));
    let (origin, _server) = support::spawn(serve(&inngest, trace_functions())).await;
    let http = reqwest::Client::new();
    let mut compared = 0;
    for name in TRACES {
        let trace = fixture(name);
        for exchange in trace["exchanges"].as_array().unwrap() {
            if exchange["direction"] != "server->sdk" {
                continue;
            }
            let url = format!(
                "{origin}{}",
                exchange["url_path_and_query"].as_str().unwrap()
            );
            let response = http.post(url).json(&exchange["body"]).send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body: Value = response.json().await.unwrap();
            let expected = &exchange["response"];
            let context = format!("{name} seq {}", exchange["seq"]);
            assert_eq!(
                status,
                expected["status"].as_u64().unwrap() as u16,
                "{context}: {body}"
            );
            assert_eq!(
                normalise(status, &body),
                normalise(status, &expected["body"]),
                "{context}"
            );
            if status == 206 {
                js_opts_are_in_ours(&expected["body"], &body);
            }
            let js_no_retry = expected["headers"]["x-inngest-no-retry"].as_str();
            let our_no_retry = headers
                .get("x-inngest-no-retry")
                .map(|v| v.to_str().unwrap());
            assert_eq!(our_no_retry, js_no_retry, "{context}: X-Inngest-No-Retry");
            assert!(headers["x-inngest-sdk"]
                .to_str()
                .unwrap()
                .starts_with("mastra-rs/mastra-rs:v"));
            assert_eq!(headers["x-inngest-req-version"], "2", "{context}");
            compared += 1;
        }
    }
    // 4 + 4 + 2 + 3 + 4 + 5 + 7 Call Requests in the seven classic traces.
    assert_eq!(compared, 29);
}

#[tokio::test]
async fn sync_body_matches_the_recorded_registration() {
    let fake = FakeInngest::default();
    let (api, _api_server) = support::spawn(fake.router()).await;
    let mut config = Config::dev(APP_ID, &api);
    config.serve_origin = Some("http://127.0.0.1:3940".into());
    let inngest = Inngest::new(config);
    let (origin, _server) = support::spawn(serve(&inngest, trace_functions())).await;

    let response = reqwest::Client::new()
        .put(format!("{origin}/api/inngest?deployId=d-1"))
        .header("X-Inngest-Server-Kind", "dev")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-inngest-sync-kind"], "out_of_band");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"message": "Successfully registered", "modified": true})
    );

    let recorded = fixture("registration");
    let js = &recorded["exchanges"][1]["body"];
    let state = fake.state.lock().unwrap();
    let (headers, query, ours) = &state.registrations[0];
    assert_eq!(query.as_deref(), Some("deployId=d-1"));
    assert_eq!(headers["x-inngest-expected-server-kind"], "dev");
    assert_eq!(headers["x-inngest-sync-kind"], "out_of_band");
    assert!(
        headers.get("authorization").is_none(),
        "no signing key, no bearer"
    );
    // Same functions, triggers, step runtime URLs and retry counts as the JS SDK sent.
    assert_eq!(ours["functions"], js["functions"]);
    for key in ["url", "deployType", "appName", "v"] {
        assert_eq!(ours[key], js[key], "{key}");
    }
    assert_eq!(ours["framework"], "axum");
    assert!(ours["sdk"]
        .as_str()
        .unwrap()
        .starts_with("mastra-rs/mastra-rs:v"));
}
