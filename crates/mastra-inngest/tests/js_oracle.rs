//! Live differential check against the official JS SDK: the functions of `app.mjs`
//! (`fixtures/traces`, the recorded traces' own app) served by `inngest@4.24.0` under Node
//! and by our SDK answer the same Call Requests (every one of the recorded traces) with
//! equivalent responses, compared without `timing`, `stack` or `__serialized`.
//!
//! It needs Node and the npm registry: the first run installs `inngest@4.24.0` into the
//! test's temp dir (about 30-50 s), later runs reuse it. Without Node or npm it fails
//! loudly rather than passing by skipping. The recorded-trace test (`traces.rs`) checks
//! the same requests against the recorded JS answers without Node.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_inngest::{serve, Config, Inngest};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
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

fn fixtures() -> String {
    format!("{}/tests/fixtures/traces", env!("CARGO_MANIFEST_DIR"))
}

/// Installs `inngest@4.24.0` once into the test's temp dir.
fn install(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(format!("{}/app.mjs", fixtures()), dir.join("app.mjs")).unwrap();
    if dir.join("node_modules/inngest/package.json").exists() {
        return;
    }
    let status = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--silent",
            "inngest@4.24.0",
        ])
        .current_dir(dir)
        .status()
        .expect("npm is needed for the JS oracle");
    assert!(status.success(), "npm install inngest@4.24.0 failed");
}

fn normalise(status: u16, body: &Value) -> Value {
    let op = |op: &Value| {
        let mut out =
            json!({"id": op["id"], "op": op["op"], "name": op["name"], "userland": op["userland"]});
        if op["op"] == "StepRun" {
            out["data"] = op["data"].clone();
        }
        if let Some(error) = op.get("error") {
            out["error"] = json!({"name": error["name"], "message": error["message"]});
        }
        out
    };
    match status {
        206 => Value::Array(body.as_array().unwrap().iter().map(op).collect()),
        400 | 500 => json!({"name": body["name"], "message": body["message"]}),
        _ => body.clone(),
    }
}

async fn answer(http: &reqwest::Client, url: String, body: &Value) -> (u16, Option<String>, Value) {
    let response = http.post(url).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    let no_retry = response
        .headers()
        .get("x-inngest-no-retry")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, no_retry, response.json().await.unwrap())
}

#[tokio::test]
async fn our_answers_match_the_js_sdk_for_every_recorded_call_request() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("js-oracle");
    install(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut node = Command::new("node")
        .arg("app.mjs")
        .env("APP_PORT", port.to_string())
        .env("PROXY_ORIGIN", format!("http://127.0.0.1:{port}"))
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("node is needed for the JS oracle");
    let mut ready = String::new();
    BufReader::new(node.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert!(ready.starts_with("ready"), "{ready}");

    let inngest = Inngest::new(Config::dev(APP_ID, "http://127.0.0.1:9"));
    let (ours, _server) = support::spawn(serve(&inngest, trace_functions())).await;
    let http = reqwest::Client::new();
    let mut compared = 0;
    for name in TRACES {
        let path = format!("{}/{name}.json", fixtures());
        let trace: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for exchange in trace["exchanges"].as_array().unwrap() {
            if exchange["direction"] != "server->sdk" {
                continue;
            }
            let query = exchange["url_path_and_query"].as_str().unwrap();
            let body = &exchange["body"];
            let js = answer(&http, format!("http://127.0.0.1:{port}{query}"), body).await;
            let rust = answer(&http, format!("{ours}{query}"), body).await;
            let context = format!("{name} seq {}", exchange["seq"]);
            assert_eq!(
                (rust.0, &rust.1),
                (js.0, &js.1),
                "{context}: status, no-retry"
            );
            assert_eq!(
                normalise(rust.0, &rust.2),
                normalise(js.0, &js.2),
                "{context}"
            );
            compared += 1;
        }
    }
    node.kill().unwrap();
    let _ = node.wait();
    assert_eq!(compared, 29);
}
