//! Two `mastra serve` processes on one Redis form one deployment: a run started through one
//! is observed through the other, from the middle, every event exactly once. Needs the Redis
//! on 127.0.0.1:6379 (`.ci/run` starts it); fails loudly without it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::StreamExt;
use mastra_cache::ServerCache;
use mastra_client::{AgentRequest, MastraClient};
use mastra_core::ChunkKind;
use mastra_redis::{RedisConfig, RedisConnection, RedisServerCache};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Starts `mastra serve --redis-url` on a free port, its keys under `prefix`; returns the
/// process and its URL.
fn start(prefix: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mastra"))
        .args([
            "serve",
            "--port",
            "0",
            "--demo-delay-ms",
            "5",
            "--redis-url",
            REDIS_URL,
            "--redis-prefix",
            prefix,
        ])
        .env_remove("MASTRA_API_TOKENS")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("on Redis"), "not on Redis: {line:?}");
    let base = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches("/api")
        .to_owned();
    (child, base)
}

#[tokio::test]
async fn a_run_started_on_one_instance_is_observed_on_another() {
    let prefix = format!("test:cli:deployment:{}:", uuid::Uuid::new_v4());
    let (mut a, url_a) = start(&prefix);
    let (mut b, url_b) = start(&prefix);
    let outcome = tokio::time::timeout(Duration::from_secs(30), async {
        let client_a = MastraClient::new(&url_a).unwrap();
        let mut stream = client_a
            .stream("demo-agent", &AgentRequest::new("count to 40"))
            .await
            .unwrap();
        let run_id = stream.run_id().to_owned();
        for _ in 0..8 {
            stream.next().await.unwrap().unwrap();
        }
        let offset = stream.next_index();
        drop(stream);

        let client_b = MastraClient::new(&url_b).unwrap();
        let mut events = client_b.observe("demo-agent", &run_id, offset);
        let (mut indices, mut text) = (Vec::new(), String::new());
        while let Some(event) = events.next().await {
            let event = event.unwrap();
            indices.push(event.index.unwrap());
            if let Some(chunk) = mastra_durable::event_chunk(&event) {
                if let ChunkKind::TextDelta(delta) = chunk.kind {
                    text.push_str(&delta.text);
                }
            }
            if event.is_terminal() {
                assert_eq!(event.kind.as_str(), "finish");
            }
        }
        let expected: Vec<u64> = (offset..offset + indices.len() as u64).collect();
        assert_eq!(
            indices, expected,
            "contiguous from the offset, no duplicate"
        );
        // Chunks 0..=7 were start, step-start, text-start and the deltas "1".." 5".
        let all: Vec<String> = (1..=40).map(|n| n.to_string()).collect();
        assert_eq!(text.trim_start(), all[5..].join(" "));
    })
    .await;
    let _ = a.kill();
    let _ = b.kill();
    let _ = (a.wait(), b.wait());
    let connection = RedisConnection::connect(RedisConfig::new(REDIS_URL).with_key_prefix(prefix))
        .await
        .unwrap();
    RedisServerCache::new(connection).clear().await.unwrap();
    outcome.expect("the deployment test timed out");
}
