//! `mastra serve` as a process: it prints its address, serves the demo agent, and stops
//! cleanly on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts `mastra serve` on a free port; returns the process and its `/api` base URL.
fn start(tokens: Option<&str>) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mastra"));
    command
        .args(["serve", "--port", "0", "--demo-delay-ms", "1"])
        .env_remove("MASTRA_API_TOKENS")
        .env_remove("REDIS_URL")
        .stdout(Stdio::piped());
    if let Some(tokens) = tokens {
        command.env("MASTRA_API_TOKENS", tokens);
    }
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (child, base)
}

/// Sends SIGTERM and waits for a clean exit.
async fn stop(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("mastra serve did not stop on SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn serve_runs_the_demo_agent_and_stops_on_sigterm() {
    let (child, base) = start(None);

    let client = reqwest::Client::new();
    let agents: Value = client
        .get(format!("{base}/agents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(agents["demo-agent"]["durable"], true);
    let output: Value = client
        .post(format!("{base}/agents/demo-agent/generate"))
        .json(&json!({"messages": "calculate 2 * (3 + 4)"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(output["text"], "2 * (3 + 4) = 14");

    stop(child).await;
}

#[tokio::test]
async fn tokens_come_from_the_environment() {
    let (child, base) = start(Some("one, two"));
    let client = reqwest::Client::new();
    let agents = format!("{base}/agents");
    let refused = client.get(&agents).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"].is_string());
    let allowed = client.get(&agents).bearer_auth("two").send().await.unwrap();
    assert_eq!(allowed.status(), 200);
    stop(child).await;
}
