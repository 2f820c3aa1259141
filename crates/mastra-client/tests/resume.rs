//! The resumable streams through a proxy that cuts the TCP connection at random points
//! (several seeds, a bounded number of cuts each): `observe` and `stream` still deliver
//! every event exactly once, in order, and `count to N` reads exactly "1 2 ... N". A start
//! whose answer is lost is sent again without starting the run twice; retries are bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures::StreamExt;
use mastra_client::{envelope_chunk, AgentRequest, ClientError, RetryPolicy};
use mastra_core::ChunkKind;
use mastra_server::ServerConfig;
use std::time::Duration;
use support::proxy::CuttingProxy;
use support::{counted, fast_retry, TestServer};

const N: u32 = 40;
const SEEDS: [u64; 6] = [1, 7, 42, 1234, 99_991, 0xdead_beef];

/// The chunk types the run logged, read straight from the server (no proxy).
async fn logged_types(server: &TestServer, run_id: &str) -> Vec<String> {
    let events: Vec<_> = server
        .client()
        .observe("demo-agent", run_id, 0)
        .collect()
        .await;
    events
        .into_iter()
        .map(|event| {
            let event = event.unwrap();
            envelope_chunk(&event).unwrap().type_name().into_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_survives_random_cuts() {
    let server = TestServer::start(Duration::from_millis(1), ServerConfig::new()).await;
    for seed in SEEDS {
        let proxy = CuttingProxy::start(server.addr, seed, 6, 2_500).await;
        let client = mastra_client::MastraClient::new(&proxy.url())
            .unwrap()
            .with_retry(fast_retry());
        let request = AgentRequest::new(format!("count to {N}"));
        // Even the first POST may be cut: `stream` retries it with the same run id.
        let mut chunks = client.stream("demo-agent", &request).await.unwrap();
        let run_id = chunks.run_id().to_owned();
        let mut types = Vec::new();
        let mut text = String::new();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert_eq!(chunk.run_id, run_id);
            if let ChunkKind::TextDelta(delta) = &chunk.kind {
                text.push_str(&delta.text);
            }
            types.push(chunk.type_name().into_owned());
        }
        assert_eq!(text, counted(N), "seed {seed}");
        assert_eq!(types, logged_types(&server, &run_id).await, "seed {seed}");
        assert_eq!(chunks.next_index(), types.len() as u64, "seed {seed}");
        assert!(proxy.cuts() > 0, "seed {seed}: the proxy never cut");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_survives_random_cuts() {
    let server = TestServer::start(Duration::from_millis(1), ServerConfig::new()).await;
    for seed in SEEDS {
        // The run goes on at the server; the observer joins through the proxy at index 0.
        let chunks = server
            .client()
            .stream("demo-agent", &AgentRequest::new(format!("count to {N}")))
            .await
            .unwrap();
        let run_id = chunks.run_id().to_owned();
        drop(chunks);
        let proxy = CuttingProxy::start(server.addr, seed, 6, 2_500).await;
        let client = mastra_client::MastraClient::new(&proxy.url())
            .unwrap()
            .with_retry(fast_retry());
        let mut events = client.observe("demo-agent", &run_id, 0);
        let mut indices = Vec::new();
        let mut text = String::new();
        while let Some(event) = events.next().await {
            let event = event.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            indices.push(event.index.unwrap());
            if let Some(ChunkKind::TextDelta(delta)) = envelope_chunk(&event).map(|c| c.kind) {
                text.push_str(&delta.text);
            }
        }
        let expected: Vec<u64> = (0..indices.len() as u64).collect();
        assert_eq!(indices, expected, "seed {seed}: every index once, in order");
        assert_eq!(text, counted(N), "seed {seed}");
        assert_eq!(indices.len(), logged_types(&server, &run_id).await.len());
        assert_eq!(events.next_offset(), indices.len() as u64);
        assert!(proxy.cuts() > 0, "seed {seed}: the proxy never cut");
    }
}

#[tokio::test]
async fn retries_are_bounded() {
    // Nothing listens here: every attempt fails, and the stream gives up after the retries.
    let client = mastra_client::MastraClient::new("http://127.0.0.1:9")
        .unwrap()
        .with_retry(RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
        });
    let mut events = client.observe("demo-agent", "some-run", 5);
    match events.next().await {
        Some(Err(ClientError::RetriesExhausted { attempts, source })) => {
            assert_eq!(attempts, 4);
            assert!(source.is_retryable());
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    assert!(events.next().await.is_none());
    assert_eq!(events.next_offset(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_start_is_sent_again_and_the_run_starts_once() {
    let server = TestServer::start(Duration::from_millis(2), ServerConfig::new()).await;
    // The first POST reaches the server but its answer is cut before the headers; the
    // second connection is closed at once; the third gets 409 (the run exists) and the
    // stream observes the run from index 0.
    let proxy = CuttingProxy::scripted(server.addr, vec![Some(0), None]).await;
    let client = mastra_client::MastraClient::new(&proxy.url())
        .unwrap()
        .with_retry(fast_retry());
    let request = AgentRequest::new("count to 10").run_id("started-once");
    let mut chunks = client.stream("demo-agent", &request).await.unwrap();
    let mut types = Vec::new();
    let mut text = String::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.unwrap();
        if let ChunkKind::TextDelta(delta) = &chunk.kind {
            text.push_str(&delta.text);
        }
        types.push(chunk.type_name().into_owned());
    }
    assert_eq!(text, counted(10));
    assert_eq!(types, logged_types(&server, "started-once").await);
    assert_eq!(types.iter().filter(|t| *t == "start").count(), 1);
    assert_eq!(proxy.cuts(), 2);
}

#[tokio::test]
async fn a_silent_stream_counts_as_lost() {
    // A server that answers 200 with SSE headers and then says nothing, not even heartbeats.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
            let _ = socket.write_all(head.as_bytes()).await;
            held.push(socket);
        }
    });
    let client = mastra_client::MastraClient::new(&format!("http://{addr}"))
        .unwrap()
        .with_stream_idle(Duration::from_millis(100))
        .with_retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
        });
    let mut events = client.observe("demo-agent", "some-run", 0);
    match events.next().await {
        Some(Err(ClientError::RetriesExhausted { attempts, source })) => {
            assert_eq!(attempts, 3);
            assert!(matches!(*source, ClientError::Idle(_)), "{source}");
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    silent.abort();
}
