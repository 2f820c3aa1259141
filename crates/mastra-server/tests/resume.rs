//! Resumable streams over HTTP: a client that drops `/stream` detaches (the run goes on),
//! and `observe` picks the run up from any index, exactly once, in both framings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

/// Every envelope of a finished run, observed from 0.
async fn full_log(server: &TestServer, run_id: &str) -> Vec<Value> {
    server
        .post_sse(
            "/agents/demo-agent/observe",
            json!({"runId": run_id, "offset": 0}),
        )
        .await
}

#[tokio::test]
async fn dropping_stream_detaches_and_observe_gets_the_rest_exactly_once() {
    let server = TestServer::demo().await;
    let response = server
        .post(
            "/agents/demo-agent/stream",
            json!({"messages": "count to 40"}),
        )
        .await;
    let mut reader = SseReader::new(response);
    let mut seen = Vec::new();
    while seen.len() < 6 {
        seen.push(reader.next_data().await.unwrap());
    }
    let run_id = seen[0]["runId"].as_str().unwrap().to_owned();
    drop(reader); // hang up mid-run

    // Every chunk so far was one event: the next index is the number of chunks read.
    let rest = server
        .post_sse(
            "/agents/demo-agent/observe",
            json!({"runId": run_id, "offset": seen.len()}),
        )
        .await;
    let indices: Vec<u64> = rest.iter().map(|e| e["index"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = (6..6 + rest.len() as u64).collect();
    assert_eq!(indices, expected, "contiguous from the offset, no repeats");
    let last = rest.last().unwrap();
    assert_eq!(last["type"], "finish");
    assert_eq!(last["data"]["stepResult"]["reason"], "stop", "not aborted");
    let numbers: Vec<String> = (1..=40).map(|n| n.to_string()).collect();
    assert_eq!(last["data"]["output"]["text"], numbers.join(" "));

    // What the two connections saw is the whole run, in order, once.
    let full = full_log(&server, &run_id).await;
    let seen_types = types(&seen);
    let full_types: Vec<String> = full.iter().map(chunk_type_of).collect();
    assert_eq!(seen_types, full_types[..6]);
    assert_eq!(&full[6..], &rest[..], "same envelopes, same ids");
    for envelope in &full {
        assert_eq!(envelope["runId"], run_id.as_str());
        assert!(envelope["id"].is_string() && envelope["createdAt"].is_string());
    }
}

#[tokio::test]
async fn observe_from_the_middle_and_past_the_end() {
    let server = TestServer::demo().await;
    let chunks = server
        .post_sse(
            "/agents/demo-agent/stream",
            json!({"messages": "count to 5"}),
        )
        .await;
    let run_id = chunks[0]["runId"].as_str().unwrap();
    let full = full_log(&server, run_id).await;
    assert_eq!(full.len(), chunks.len());
    assert_eq!(full[0]["index"], 0);
    assert_eq!(full[0]["type"], "chunk");
    assert_eq!(full[0]["data"]["type"], "start");

    let middle = server
        .post_sse(
            "/agents/demo-agent/observe",
            json!({"runId": run_id, "offset": 4}),
        )
        .await;
    assert_eq!(&middle[..], &full[4..]);

    // At or past the end of a finished run: nothing, at once.
    for offset in [full.len(), full.len() + 100] {
        let started = std::time::Instant::now();
        let nothing = server
            .post_sse(
                "/agents/demo-agent/observe",
                json!({"runId": run_id, "offset": offset}),
            )
            .await;
        assert!(nothing.is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}

/// Reads `id:` + `data:` blocks (as `EventSource` does) until the body ends.
async fn read_events(response: reqwest::Response) -> Vec<(u64, Value)> {
    assert_eq!(response.status(), 200);
    let mut reader = SseReader::new(response);
    let mut events = Vec::new();
    while let Some(block) = reader.next_block().await {
        if block.starts_with(':') {
            continue;
        }
        let (id_line, data_line) = block.split_once('\n').unwrap();
        let id: u64 = id_line.strip_prefix("id: ").unwrap().parse().unwrap();
        let data: Value = serde_json::from_str(data_line.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["index"], id);
        events.push((id, data));
    }
    events
}

#[tokio::test]
async fn browser_observe_has_id_lines_and_resumes_after_last_event_id() {
    let server = TestServer::demo().await;
    let chunks = server
        .post_sse(
            "/agents/demo-agent/stream",
            json!({"messages": "count to 4"}),
        )
        .await;
    let run_id = chunks[0]["runId"].as_str().unwrap();
    let full = full_log(&server, run_id).await;

    let url = server.url(&format!("/agents/demo-agent/observe?runId={run_id}"));
    let all = read_events(server.client.get(&url).send().await.unwrap()).await;
    assert_eq!(all.len(), full.len());
    assert_eq!(all.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(), full);

    let from_3 = read_events(
        server
            .client
            .get(format!("{url}&offset=3"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(from_3.first().unwrap().0, 3);

    // EventSource reconnects with its original URL plus Last-Event-ID: the header wins.
    let resumed = read_events(
        server
            .client
            .get(format!("{url}&offset=0"))
            .header("Last-Event-ID", "5")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ids: Vec<u64> = resumed.iter().map(|(id, _)| *id).collect();
    let expected: Vec<u64> = (6..full.len() as u64).collect();
    assert_eq!(ids, expected);

    // Past the end of a finished run: 204, so that EventSource stops reconnecting.
    let last = (full.len() - 1).to_string();
    let finished = server
        .client
        .get(&url)
        .header("Last-Event-ID", last.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), 204);

    let bad = server
        .client
        .get(&url)
        .header("Last-Event-ID", "five")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn observing_a_live_run_follows_it_to_its_finish() {
    let server = TestServer::demo().await;
    let response = server
        .post(
            "/agents/demo-agent/stream",
            json!({"messages": "count to 30"}),
        )
        .await;
    let mut reader = SseReader::new(response);
    let first = reader.next_data().await.unwrap();
    let run_id = first["runId"].as_str().unwrap();
    // Two observers join while the run is going; both get every event once.
    let (a, b) = tokio::join!(
        server.post_sse("/agents/demo-agent/observe", json!({"runId": run_id}),),
        server.post_sse(
            "/agents/demo-agent/observe",
            json!({"runId": run_id, "offset": 2}),
        ),
    );
    assert_eq!(&a[2..], &b[..]);
    assert_eq!(a.last().unwrap()["type"], "finish");
    let mut rest = vec![first];
    while let Some(chunk) = reader.next_data().await {
        rest.push(chunk);
    }
    assert_eq!(rest.len(), a.len());
}

#[tokio::test]
async fn any_disconnect_point_resumes_without_gap_or_repeat() {
    let server = TestServer::demo().await;
    for hang_up_after in [1, 2, 3, 5, 8, 13, 17] {
        let response = server
            .post(
                "/agents/demo-agent/stream",
                json!({"messages": "count to 12"}),
            )
            .await;
        let mut reader = SseReader::new(response);
        let mut seen = Vec::new();
        while seen.len() < hang_up_after {
            seen.push(reader.next_data().await.unwrap());
        }
        drop(reader);
        let run_id = seen[0]["runId"].as_str().unwrap();
        let rest = server
            .post_sse(
                "/agents/demo-agent/observe",
                json!({"runId": run_id, "offset": hang_up_after}),
            )
            .await;
        let full = full_log(&server, run_id).await;
        assert_eq!(&full[hang_up_after..], &rest[..], "after {hang_up_after}");
        let full_types: Vec<String> = full.iter().map(chunk_type_of).collect();
        assert_eq!(types(&seen), full_types[..hang_up_after]);
        assert_eq!(rest.last().unwrap()["type"], "finish");
    }
}
