//! Connections over time: heartbeats while a stream is quiet, observe closing when idle,
//! and graceful shutdown ending open streams while durable runs go on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

/// A paused run of `approval-agent`: its log is quiet until someone answers.
async fn paused_run(server: &TestServer) -> String {
    let chunks = server
        .post_sse(
            "/agents/approval-agent/stream",
            json!({"messages": "weather in Kyiv"}),
        )
        .await;
    chunks[0]["runId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn quiet_streams_send_heartbeats_and_idle_observers_close() {
    let config = test_config()
        .heartbeat(Duration::from_millis(50))
        .observe_idle_timeout(Duration::from_millis(400));
    let server = TestServer::start(demo_mastra(), config).await;
    let run_id = paused_run(&server).await;

    let response = server
        .post(
            "/agents/approval-agent/observe",
            json!({"runId": run_id, "offset": 0}),
        )
        .await;
    let started = Instant::now();
    let mut reader = SseReader::new(response);
    let mut blocks = Vec::new();
    while let Some(block) = reader.next_block().await {
        blocks.push(block);
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(350), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let heartbeats = blocks.iter().filter(|b| *b == ": heartbeat").count();
    assert!(heartbeats >= 3, "{blocks:?}");
    assert_eq!(
        blocks.last().unwrap(),
        "data: [DONE]",
        "idle close is a normal end"
    );
    assert!(blocks.iter().any(|b| b.contains(r#""type":"suspended""#)));
}

#[tokio::test]
async fn shutdown_ends_open_streams_and_runs_go_on() {
    let mastra = demo_mastra();
    let server = TestServer::start(mastra.clone(), test_config()).await;
    let paused = paused_run(&server).await;

    // An observer of a paused run, and a stream of a long run, both open.
    let observe = server
        .post("/agents/approval-agent/observe", json!({"runId": paused}))
        .await;
    let stream = server
        .post(
            "/agents/demo-agent/stream",
            json!({"messages": "count to 60"}),
        )
        .await;
    let mut observer = SseReader::new(observe);
    let mut streamer = SseReader::new(stream);
    let run_id = streamer.next_data().await.unwrap()["runId"]
        .as_str()
        .unwrap()
        .to_owned();
    observer.next_data().await.unwrap();

    server.shutdown.trigger();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while observer.next_data().await.is_some() {}
        while streamer.next_data().await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "open streams did not end");
    assert!(
        !observer.done && !streamer.done,
        "no [DONE]: the runs did not end"
    );
    let agents = server.url("/agents");
    let client = server.client.clone();
    let served = tokio::time::timeout(Duration::from_secs(5), server.handle)
        .await
        .expect("the server did not stop");
    served.unwrap().unwrap();
    assert!(client.get(agents).send().await.is_err(), "still accepting");

    // The durable runs were not touched: one finishes by itself, one still waits.
    let durable = mastra.durable_agent("demo-agent").unwrap();
    let mut events = durable.observe(&run_id, 0).await.unwrap();
    let mut last = None;
    while let Some(event) = events.next().await {
        last = Some(event.unwrap());
    }
    let last = last.unwrap();
    assert!(last.is_terminal());
    assert_eq!(last.data["stepResult"]["reason"], "stop");
    let approving = mastra.durable_agent("approval-agent").unwrap();
    assert!(approving.paused_state(&paused).await.unwrap().is_some());
}
