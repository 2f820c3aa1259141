//! Every route through the client against a real `mastra_server`: agents, generate,
//! stream, observe from an offset, approvals, resume, abort, errors and bearer tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures::StreamExt;
use mastra_client::{AgentRequest, ClientError, MastraClient};
use mastra_core::{ChunkKind, FinishReason};
use mastra_pubsub::EventType;
use mastra_server::ServerConfig;
use reqwest::StatusCode;
use std::time::Duration;
use support::{counted, TestServer};

#[tokio::test]
async fn lists_and_describes_agents() {
    let server = TestServer::demo().await;
    let client = server.client();
    let agents = client.list_agents().await.unwrap();
    assert_eq!(
        agents.keys().collect::<Vec<_>>(),
        vec!["approval-agent", "demo-agent", "plain-agent"]
    );
    let demo = client.agent("demo-agent").await.unwrap();
    assert_eq!(demo.name, "Demo Agent");
    assert_eq!(demo.instructions, "You are a demo");
    assert!(demo.durable);
    assert!(demo.tools.contains_key("weather"));
    let missing = client.agent("nobody").await.unwrap_err();
    assert_eq!(missing.status(), Some(StatusCode::NOT_FOUND));
    assert!(!missing.is_retryable());
    assert!(missing.to_string().contains("nobody"), "{missing}");
}

#[tokio::test]
async fn generates_and_streams() {
    let server = TestServer::demo().await;
    let client = server.client();
    let output = client
        .generate("demo-agent", &AgentRequest::new("count to 4"))
        .await
        .unwrap();
    assert_eq!(output.text, "1 2 3 4");
    assert_eq!(output.finish_reason, FinishReason::Stop);

    let stream = client
        .stream(
            "demo-agent",
            &AgentRequest::new("count to 7").run_id("run-7"),
        )
        .await
        .unwrap();
    assert_eq!(stream.run_id(), "run-7");
    assert_eq!(stream.text().await.unwrap(), counted(7));

    let mut chunks = client
        .stream("demo-agent", &AgentRequest::new("weather in Paris"))
        .await
        .unwrap();
    let run_id = chunks.run_id().to_owned();
    let mut kinds = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.unwrap();
        assert_eq!(chunk.run_id, run_id);
        kinds.push(chunk.type_name().into_owned());
    }
    assert_eq!(kinds.first().map(String::as_str), Some("start"));
    assert_eq!(kinds.last().map(String::as_str), Some("finish"));
    assert!(kinds.contains(&"tool-call".to_owned()) && kinds.contains(&"tool-result".to_owned()));
    assert_eq!(chunks.next_index(), kinds.len() as u64);

    // A plain agent streams too (not resumable, but the same chunks).
    let plain = client
        .stream("plain-agent", &AgentRequest::new("count to 3"))
        .await
        .unwrap();
    assert_eq!(plain.text().await.unwrap(), counted(3));
}

#[tokio::test]
async fn observes_a_run_from_an_offset() {
    let server = TestServer::demo().await;
    let client = server.client();
    let stream = client
        .stream("demo-agent", &AgentRequest::new("count to 5"))
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    let chunk_count = stream.collect::<Vec<_>>().await.len() as u64;

    let all: Vec<_> = client.observe("demo-agent", &run_id, 0).collect().await;
    let all: Vec<_> = all.into_iter().map(Result::unwrap).collect();
    assert_eq!(all.len() as u64, chunk_count);
    let indices: Vec<_> = all.iter().map(|e| e.index.unwrap()).collect();
    assert_eq!(indices, (0..chunk_count).collect::<Vec<_>>());
    assert_eq!(all.last().unwrap().kind, EventType::Finish);

    let mut tail = client.observe("demo-agent", &run_id, 3);
    let mut seen = Vec::new();
    while let Some(event) = tail.next().await {
        seen.push(event.unwrap().index.unwrap());
    }
    assert_eq!(seen, (3..chunk_count).collect::<Vec<_>>());
    assert_eq!(tail.next_offset(), chunk_count);

    let mut unknown = client.observe("demo-agent", "no-such-run", 0);
    let error = unknown.next().await.unwrap().unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert!(unknown.next().await.is_none());
}

#[tokio::test]
async fn approves_and_declines_tool_calls() {
    let server = TestServer::demo().await;
    let client = server.client();
    for approve in [true, false] {
        let paused = client
            .generate("approval-agent", &AgentRequest::new("weather in Paris"))
            .await
            .unwrap();
        assert_eq!(paused.finish_reason, FinishReason::Suspended);
        let call = &paused.tool_calls[0];
        let answer = match approve {
            true => {
                client
                    .approve_tool_call("approval-agent", &paused.run_id, &call.tool_call_id)
                    .await
            }
            false => {
                client
                    .decline_tool_call("approval-agent", &paused.run_id, &call.tool_call_id)
                    .await
            }
        };
        let chunks: Vec<_> = answer.unwrap().collect().await;
        let chunks: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
        let results: Vec<_> = chunks
            .iter()
            .filter_map(|c| match &c.kind {
                ChunkKind::ToolResult(result) => Some(result.clone()),
                _ => None,
            })
            .collect();
        match approve {
            // The approved call ran: its result is the weather.
            true => assert_eq!(results.len(), 1, "{chunks:?}"),
            // A declined call never runs (at most an error result tells the model so).
            false => assert!(
                results.iter().all(|r| r.is_error == Some(true)),
                "{results:?}"
            ),
        }
        assert!(chunks.last().unwrap().is_terminal());

        // The run is answered: a second answer is refused.
        let again = client
            .approve_tool_call("approval-agent", &paused.run_id, &call.tool_call_id)
            .await
            .unwrap_err();
        assert_eq!(again.status(), Some(StatusCode::CONFLICT), "{again}");
    }
}

#[tokio::test]
async fn resume_stream_answers_only_paused_runs() {
    let server = TestServer::demo().await;
    let client = server.client();
    let done = client
        .generate("demo-agent", &AgentRequest::new("count to 2"))
        .await
        .unwrap();
    let error = client
        .resume_stream(
            "demo-agent",
            &done.run_id,
            serde_json::json!({"ok": true}),
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.status(),
            Some(StatusCode::CONFLICT | StatusCode::NOT_FOUND)
        ),
        "{error}"
    );

    // A paused run resumed with data for its approval-waiting call continues to the end.
    let paused = client
        .generate("approval-agent", &AgentRequest::new("weather in Oslo"))
        .await
        .unwrap();
    let call = paused.tool_calls[0].tool_call_id.clone();
    let resumed = client
        .resume_stream(
            "approval-agent",
            &paused.run_id,
            serde_json::json!({"approved": true}),
            Some(&call),
        )
        .await;
    match resumed {
        Ok(stream) => {
            let chunks: Vec<_> = stream.collect().await;
            assert!(chunks.last().unwrap().as_ref().unwrap().is_terminal());
        }
        Err(error) => assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST), "{error}"),
    }
}

#[tokio::test]
async fn aborts_a_running_run() {
    let server = TestServer::start(Duration::from_millis(20), ServerConfig::new()).await;
    let client = server.client();
    let mut chunks = client
        .stream("demo-agent", &AgentRequest::new("count to 200"))
        .await
        .unwrap();
    let run_id = chunks.run_id().to_owned();
    // Wait for the first text.
    while let Some(chunk) = chunks.next().await {
        if chunk.unwrap().type_name() == "text-delta" {
            break;
        }
    }
    let answer = client.abort("demo-agent", &run_id).await.unwrap();
    assert_eq!(
        (answer.run_id.as_str(), answer.status.as_str()),
        (run_id.as_str(), "aborting")
    );
    let last = chunks.collect::<Vec<_>>().await.pop().unwrap().unwrap();
    match last.kind {
        ChunkKind::Finish(finish) => assert_eq!(finish.step_result.reason, FinishReason::Abort),
        other => panic!("expected finish, got {other:?}"),
    }
    let again = client.abort("demo-agent", &run_id).await.unwrap_err();
    assert_eq!(again.status(), Some(StatusCode::CONFLICT));
}

#[tokio::test]
async fn bad_input_and_tokens() {
    let config = ServerConfig::new().tokens(["secret"]);
    let server = TestServer::start(Duration::from_millis(1), config).await;
    let anonymous = server.client();
    let error = anonymous.list_agents().await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(!error.is_retryable());

    let client = server.client().with_token("secret");
    assert_eq!(client.list_agents().await.unwrap().len(), 3);
    let error = client
        .stream("nobody", &AgentRequest::new("hi"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    let error = client
        .generate("demo-agent", &AgentRequest::new(serde_json::json!(42)))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST), "{error}");
    // Nobody listening: a retryable transport error.
    let dead = MastraClient::new("http://127.0.0.1:9").unwrap();
    let error = dead.list_agents().await.unwrap_err();
    assert!(
        matches!(error, ClientError::Transport(_)) && error.is_retryable(),
        "{error}"
    );
}
