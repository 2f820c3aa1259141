//! Tool approval on durable runs (checklist 20): a call that needs approval pauses the run
//! with `tool-call-approval` and a `suspended` envelope while the stream stays open;
//! approving runs the tool, declining records a denied result the model is told about, and
//! the paused state (decisions included) lives in the store as plain JSON.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{Agent, ChunkKind, FinishReason, RunState, StreamOptions};
use mastra_durable::{create_durable_agent, DurableAgent, DurableError, RunStatus};
use mastra_pubsub::EventType;
use serde_json::json;
use support::*;

fn payer(responses: Vec<ScriptedResponse>, runs: &Counter) -> (ScriptedModel, Agent) {
    let model = ScriptedModel::new(responses);
    let agent = Agent::builder("payer", model.clone())
        .tool(pay_tool(runs.clone()))
        .build();
    (model, agent)
}

/// Starts a run and waits for its `suspended` envelope; returns the stream and that data.
async fn pause(
    durable: &DurableAgent,
    prompt: &str,
) -> (mastra_durable::DurableStream, serde_json::Value) {
    let mut stream = durable.stream(prompt, StreamOptions::new()).await.unwrap();
    let mut events = durable.observe(stream.run_id(), 0).await.unwrap();
    let suspended = events_until(&mut events, "suspended").await.pop().unwrap();
    let read = read_until(&mut stream, "tool-call-approval").await;
    assert!(!kinds(&read).contains(&"tool-result".to_owned()));
    (stream, suspended.data.clone())
}

#[tokio::test]
async fn approval_pauses_the_run_and_approving_runs_the_tool() {
    let runs = Counter::default();
    let (_, agent) = payer(
        vec![
            ScriptedResponse::new().tool_call("pay", json!({"amount": 5})),
            ScriptedResponse::text("Paid 5."),
        ],
        &runs,
    );
    let durable = create_durable_agent(agent).build();
    let (mut stream, suspended) = pause(&durable, "pay 5").await;
    let run_id = stream.run_id().to_owned();
    assert_eq!(
        suspended,
        json!({"toolCallId": "call_0", "toolName": "pay", "args": {"amount": 5}, "type": "approval"})
    );
    // Paused is not ended: the stream waits, the tool has not run, the state is stored.
    let waited = tokio::time::timeout(Duration::from_millis(100), stream.next()).await;
    assert!(waited.is_err(), "the stream ended or moved on: {waited:?}");
    assert_eq!(runs.get(), 0);
    assert_eq!(
        durable.run_status(&run_id).await.unwrap(),
        Some(RunStatus::Suspended)
    );

    let resumed = durable.approve_tool_call(&run_id, "call_0").await.unwrap();
    let chunks = read_chunks(resumed).await;
    let ChunkKind::ToolResult(result) = &chunks[0].kind else {
        panic!("the approved call runs first: {:?}", kinds(&chunks))
    };
    assert_eq!(
        (result.tool_name.as_str(), &result.result),
        ("pay", &json!({"paid": 5}))
    );
    let finish = finish_of(&chunks);
    assert_eq!(finish.step_result.reason, FinishReason::Stop);
    assert_eq!(finish.output.text.as_deref(), Some("Paid 5."));
    assert_eq!(runs.get(), 1);

    // The original reader sees the same continuation, up to the one finish.
    let original = read_chunks(stream).await;
    assert_eq!(kinds(&original), kinds(&chunks));
    let log = log_of(&durable, &run_id).await;
    assert_contiguous(&log, 0);
    assert_eq!(terminal_count(&log), 1);
    assert_eq!(
        log.iter()
            .filter(|e| e.kind == EventType::Suspended)
            .count(),
        1
    );
    assert_eq!(durable.paused_state(&run_id).await.unwrap(), None);
    assert!(matches!(
        durable.approve_tool_call(&run_id, "call_0").await,
        Err(DurableError::RunState { .. })
    ));
}

#[tokio::test]
async fn declining_records_a_denied_result_and_the_model_goes_on() {
    let runs = Counter::default();
    let (model, agent) = payer(
        vec![
            ScriptedResponse::new().tool_call("pay", json!({"amount": 9})),
            ScriptedResponse::text("Understood, no payment."),
        ],
        &runs,
    );
    let durable = create_durable_agent(agent).build();
    let (stream, _) = pause(&durable, "pay 9").await;
    let run_id = stream.run_id().to_owned();
    drop(stream);

    let output = durable
        .decline_tool_call(&run_id, "call_0")
        .await
        .unwrap()
        .output()
        .await
        .unwrap();
    assert_eq!(runs.get(), 0, "a declined tool never runs");
    assert_eq!(output.text, "Understood, no payment.");
    assert_eq!(output.finish_reason, FinishReason::Stop);
    let denied = &output.tool_results[0];
    assert_eq!(denied.error.as_ref().unwrap().name, "ToolCallDeclinedError");
    // The model was told, as a tool message, before its second step.
    assert_eq!(model.calls(), 2);
    let told = model.requests()[1].messages.last().cloned().unwrap();
    assert_eq!(told.role, mastra_core::Role::Tool);

    let log = log_of(&durable, &run_id).await;
    let error = log
        .iter()
        .find(|e| e.data["type"] == "tool-error")
        .expect("a tool-error chunk");
    assert_eq!(
        error.data["payload"]["error"]["name"],
        "ToolCallDeclinedError"
    );
    assert_eq!(error.data["payload"]["toolCallId"], "call_0");
}

#[tokio::test]
async fn the_paused_state_is_json_and_round_trips() {
    let runs = Counter::default();
    let (_, agent) = payer(
        vec![ScriptedResponse::new().tool_call("pay", json!({"amount": 1}))],
        &runs,
    );
    let durable = create_durable_agent(agent).build();
    let (stream, _) = pause(&durable, "pay 1").await;
    let state = durable
        .paused_state(stream.run_id())
        .await
        .unwrap()
        .unwrap();
    let text = serde_json::to_string(&state).unwrap();
    assert!(
        text.contains(r#""calls":[{"toolCallId":"call_0","toolName":"pay","args":{"amount":1}}]"#),
        "{text}"
    );
    let back: RunState = serde_json::from_str(&text).unwrap();
    assert_eq!(back, state);
    assert_eq!(back.suspensions().len(), 1);
}

#[tokio::test]
async fn decisions_survive_a_store_that_keeps_only_json_text() {
    let runs = Counter::default();
    let (_, agent) = payer(
        vec![
            ScriptedResponse::new()
                .tool_call("pay", json!({"amount": 1}))
                .tool_call("pay", json!({"amount": 2})),
            ScriptedResponse::text("One paid, one not."),
        ],
        &runs,
    );
    let store = Arc::new(JsonRunStore::default());
    let durable = create_durable_agent(agent).run_store(store.clone()).build();
    let (stream, _) = pause(&durable, "pay twice").await;
    let run_id = stream.run_id().to_owned();
    drop(stream);
    let raw = store.raw(&run_id).expect("the paused run is stored");
    assert!(raw.contains(r#""status":"suspended""#), "{raw}");

    // Approve one call: it runs; the run pauses again on the other, whose record now carries
    // the first decision and result as JSON.
    let mut resumed = durable.approve_tool_call(&run_id, "call_0").await.unwrap();
    read_until(&mut resumed, "tool-call-approval").await;
    let raw = within("the second pause is stored", async {
        loop {
            match store.raw(&run_id) {
                Some(raw) => return raw,
                None => tokio::time::sleep(Duration::from_millis(2)).await,
            }
        }
    })
    .await;
    assert!(raw.contains(r#""approval":"approved""#), "{raw}");
    assert!(raw.contains(r#""paid":1"#), "{raw}");
    assert_eq!(runs.get(), 1);

    let output = durable
        .decline_tool_call(&run_id, "call_3")
        .await
        .unwrap()
        .output()
        .await
        .unwrap();
    assert_eq!(runs.get(), 1);
    assert_eq!(output.text, "One paid, one not.");
    let results: Vec<_> = output
        .tool_results
        .iter()
        .map(|r| (r.result.clone(), r.is_error()))
        .collect();
    assert_eq!(results, [(json!({"paid": 1}), false), (json!(null), true)]);
    assert!(
        store.raw(&run_id).is_none(),
        "a finished run leaves the store"
    );
}

#[tokio::test]
async fn stream_options_can_require_approval_for_every_tool() {
    let durable = create_durable_agent(demo_agent("calc")).build();
    let options = StreamOptions {
        require_tool_approval: true,
        ..StreamOptions::new()
    };
    let mut stream = durable
        .stream("calculate 2 * (3 + 4)", options)
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    let read = read_until(&mut stream, "tool-call-approval").await;
    let ChunkKind::ToolCallApproval(approval) = &read.last().unwrap().kind else {
        unreachable!()
    };
    assert_eq!(approval.tool_name, "calculator");
    assert_eq!(approval.args, json!({"expression": "2 * (3 + 4)"}));
    let call_id = approval.tool_call_id.clone();
    // A wrong id is refused and leaves the run waiting.
    assert!(durable.approve_tool_call(&run_id, "nope").await.is_err());
    assert!(durable.paused_state(&run_id).await.unwrap().is_some());

    let output = durable
        .approve_tool_call(&run_id, &call_id)
        .await
        .unwrap()
        .output()
        .await
        .unwrap();
    assert_eq!(output.text, "2 * (3 + 4) = 14");
    assert_eq!(output.steps.len(), 2);
}

#[tokio::test]
async fn approving_as_soon_as_the_approval_chunk_arrives_finds_the_paused_run() {
    let runs = Counter::default();
    let (_, agent) = payer(
        vec![
            ScriptedResponse::new().tool_call("pay", json!({"amount": 6})),
            ScriptedResponse::text("Paid 6."),
        ],
        &runs,
    );
    let store = Arc::new(SlowSaveStore::new(Duration::from_millis(30)));
    let durable = create_durable_agent(agent).run_store(store).build();
    let mut stream = durable.stream("pay 6", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "tool-call-approval").await;
    // A client that answers the chunk at once, without waiting for `suspended`.
    let resumed = durable.approve_tool_call(&run_id, "call_0").await.unwrap();
    let output = resumed.output().await.unwrap();
    assert_eq!((output.text.as_str(), runs.get()), ("Paid 6.", 1));
    let log = log_of(&durable, &run_id).await;
    let types: Vec<_> = log.iter().map(|e| e.data["type"].clone()).collect();
    let approval = types
        .iter()
        .position(|t| t == "tool-call-approval")
        .unwrap();
    assert_eq!(
        log[approval + 1].kind,
        EventType::Suspended,
        "order is unchanged"
    );
}
