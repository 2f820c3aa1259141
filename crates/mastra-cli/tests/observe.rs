//! `mastra observe` as a process against `mastra serve`: it prints a run's text, tool calls
//! and results and its finish reason, from any offset, and through a proxy that cuts the
//! connection at random points it prints exactly the same (nothing twice, nothing lost).
//! The bearer token comes from `MASTRA_API_TOKEN`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../mastra-client/tests/support/proxy.rs"]
mod proxy;

use proxy::CuttingProxy;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// A `mastra serve` process on a free port, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Self {
        Self::with_tokens(None)
    }

    fn with_tokens(tokens: Option<&str>) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mastra"));
        command
            .args(["serve", "--port", "0", "--demo-delay-ms", "2"])
            .env_remove("MASTRA_API_TOKENS")
            .stdout(Stdio::piped());
        if let Some(tokens) = tokens {
            command.env("MASTRA_API_TOKENS", tokens);
        }
        let mut child = command.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/api")
            .parse()
            .unwrap();
        Self { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts a run of `demo-agent` and returns its id once its first chunk arrived.
    async fn start_run(&self, messages: &str) -> String {
        self.start_run_as(messages, None).await
    }

    async fn start_run_as(&self, messages: &str, token: Option<&str>) -> String {
        let run_id = format!("run-{}", messages.replace(' ', "-"));
        let mut request = reqwest::Client::new()
            .post(format!("{}/api/agents/demo-agent/stream", self.url()))
            .json(&json!({ "messages": messages, "runId": run_id }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let mut response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        // One chunk is enough: the run goes on after this reader hangs up.
        let first = response.chunk().await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&first);
        let chunk: Value = serde_json::from_str(
            text.trim()
                .trim_start_matches("data: ")
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(chunk["runId"], run_id.as_str());
        run_id
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `mastra observe` with `args`; returns (success, stdout, stderr).
async fn observe(args: &[&str]) -> (bool, String, String) {
    observe_as(args, None).await
}

/// Runs `mastra observe` with `args` and `MASTRA_API_TOKEN` set to `token`.
async fn observe_as(args: &[&str], token: Option<&str>) -> (bool, String, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_mastra"));
    command
        .arg("observe")
        .args(args)
        .env_remove("MASTRA_API_TOKEN");
    if let Some(token) = token {
        command.env("MASTRA_API_TOKEN", token);
    }
    let output = command.output().await.unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn counted(n: u32) -> String {
    (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_tails_a_run_and_resumes_through_cuts() {
    let server = Server::start();
    let run_id = server.start_run("count to 60").await;
    let url = server.url();
    // Joins the run while it streams: the rest arrives live.
    let (ok, direct, stderr) = observe(&["demo-agent", &run_id, "--url", &url]).await;
    assert!(ok, "{stderr}");
    assert_eq!(direct, format!("{}\n[finish: stop]\n", counted(60)));

    for seed in [3, 17, 2024] {
        let proxy = CuttingProxy::start(server.addr, seed, 5, 1_500).await;
        let (ok, through_cuts, stderr) =
            observe(&["demo-agent", &run_id, "--url", &proxy.url()]).await;
        assert!(ok, "seed {seed}: {stderr}");
        assert_eq!(through_cuts, direct, "seed {seed}");
        assert!(proxy.cuts() > 0, "seed {seed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_shows_tools_from_an_offset_and_fails_on_unknown_runs() {
    let server = Server::start();
    let url = server.url();
    let run_id = server.start_run("weather in Paris").await;
    let (ok, all, stderr) = observe(&["demo-agent", &run_id, "--url", &url]).await;
    assert!(ok, "{stderr}");
    assert!(
        all.contains("[tool-call weather {\"city\":\"Paris\"}]"),
        "{all}"
    );
    assert!(all.contains("[tool-result weather {"), "{all}");
    assert!(all.ends_with("[finish: stop]\n"), "{all}");
    // From index 1 the `start` chunk is skipped, which prints nothing: the same output.
    let (ok, tail, _) = observe(&["demo-agent", &run_id, "--offset", "1", "--url", &url]).await;
    assert!(ok);
    assert_eq!(tail, all);

    let (ok, _, stderr) = observe(&["demo-agent", "no-such-run", "--url", &url]).await;
    assert!(!ok);
    assert!(stderr.contains("404"), "{stderr}");
    let (ok, _, stderr) = observe(&["demo-agent"]).await;
    assert!(!ok);
    assert!(
        stderr.contains("observe needs <agentId> <runId>"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_sends_the_token_from_the_environment() {
    let server = Server::with_tokens(Some("secret"));
    let url = server.url();
    let run_id = server.start_run_as("count to 3", Some("secret")).await;
    let (ok, _, stderr) = observe(&["demo-agent", &run_id, "--url", &url]).await;
    assert!(!ok);
    assert!(stderr.contains("401"), "{stderr}");
    let (ok, out, stderr) =
        observe_as(&["demo-agent", &run_id, "--url", &url], Some("secret")).await;
    assert!(ok, "{stderr}");
    assert_eq!(out, "1 2 3\n[finish: stop]\n");
}
