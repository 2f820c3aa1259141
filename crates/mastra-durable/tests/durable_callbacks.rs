//! Callbacks of a durable run (checklist 15): on-chunk, on-step-finish, on-finish, on-error,
//! on-suspended and on-abort fire from the executing task, each with the right values, and
//! have run by the time the stream delivers the terminal chunk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{
    AbortSignal, Agent, AgentError, AgentOutput, FinishReason, StreamOptions, Suspension,
    SuspensionKind,
};
use mastra_durable::{create_durable_agent, DurableError};
use mastra_pubsub::EventType;
use serde_json::json;
use support::*;

/// Everything the callbacks saw.
#[derive(Debug, Default)]
struct Seen {
    chunks: Vec<String>,
    steps: Vec<FinishReason>,
    finished: Vec<AgentOutput>,
    errors: Vec<String>,
    aborted: Vec<AgentOutput>,
    suspended: Vec<Suspension>,
}

/// Options whose every callback records into the returned `Seen`.
fn recording(options: StreamOptions) -> (StreamOptions, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = [(); 6].map(|()| seen.clone());
    let [a, b, c, d, e, f] = s;
    let options = options
        .on_chunk(move |chunk| a.lock().unwrap().chunks.push(chunk.type_name().into()))
        .on_step_finish(move |step| b.lock().unwrap().steps.push(step.finish_reason))
        .on_finish(move |output| c.lock().unwrap().finished.push(output.clone()))
        .on_error(move |error| d.lock().unwrap().errors.push(error.to_string()))
        .on_abort(move |output| e.lock().unwrap().aborted.push(output.clone()))
        .on_suspended(move |s| f.lock().unwrap().suspended.push(s.clone()));
    (options, seen)
}

#[tokio::test]
async fn chunk_step_and_finish_callbacks_fire_for_a_tool_run() {
    let durable = create_durable_agent(demo_agent("weather")).build();
    let (options, seen) = recording(StreamOptions::new());
    let stream = durable.stream("weather in Paris", options).await.unwrap();
    let chunks = read_chunks(stream).await;

    let seen = seen.lock().unwrap();
    // on-chunk sees exactly what the stream delivers, `start` included, in order.
    assert_eq!(seen.chunks, kinds(&chunks));
    assert_eq!(seen.steps, [FinishReason::ToolCalls, FinishReason::Stop]);
    assert_eq!(seen.finished.len(), 1);
    let output = &seen.finished[0];
    assert_eq!(output.text, text_of(&chunks));
    assert!(
        output.text.starts_with("The weather in Paris is "),
        "{}",
        output.text
    );
    assert_eq!(output.finish_reason, FinishReason::Stop);
    assert_eq!(output.tool_results.len(), 1);
    assert_eq!(output.tool_results[0].result["city"], "Paris");
    assert_eq!(output.usage, finish_of(&chunks).output.usage);
    assert!(seen.errors.is_empty() && seen.aborted.is_empty() && seen.suspended.is_empty());
}

#[tokio::test]
async fn on_error_fires_when_the_model_fails_and_the_run_ends_with_error() {
    let model = ScriptedModel::new([ScriptedResponse::new().fail("model is down", false)]);
    let durable = create_durable_agent(Agent::builder("fragile", model.clone()).build()).build();
    let (options, seen) = recording(StreamOptions::new());
    let stream = durable.stream("hi", options).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let outcome = stream.output().await;
    match outcome {
        Err(DurableError::Agent(AgentError::Remote(info))) => {
            assert_eq!(info.name, "ModelError");
            assert!(info.message.contains("model is down"), "{info}");
        }
        other => panic!("expected the run's error, got {other:?}"),
    }
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.errors.len(), 1);
        assert!(seen.errors[0].contains("model is down"));
        assert!(seen.finished.is_empty() && seen.aborted.is_empty());
        assert_eq!(seen.chunks.last().map(String::as_str), Some("error"));
    }
    let log = log_of(&durable, &run_id).await;
    let last = log.last().unwrap();
    assert_eq!(last.kind, EventType::Error);
    assert_eq!(last.data["error"]["name"], "ModelError");
    assert!(last.data["error"].get("stack").is_none());
    assert_eq!(terminal_count(&log), 1);
    assert_eq!(model.calls(), 1);
}

#[tokio::test]
async fn on_suspended_fires_for_a_call_awaiting_approval() {
    let runs = Counter::default();
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("pay", json!({"amount": 3})),
        ScriptedResponse::text("paid"),
    ]);
    let agent = Agent::builder("payer", model)
        .tool(pay_tool(runs.clone()))
        .build();
    let durable = create_durable_agent(agent).build();
    let (options, seen) = recording(StreamOptions::new());
    let mut stream = durable.stream("pay 3", options).await.unwrap();
    read_until(&mut stream, "tool-call-approval").await;
    let run_id = stream.run_id().to_owned();
    let mut events = durable.observe(&run_id, 0).await.unwrap();
    events_until(&mut events, "suspended").await;

    let seen = seen.lock().unwrap();
    assert_eq!(seen.suspended.len(), 1);
    let suspension = &seen.suspended[0];
    assert_eq!(suspension.kind, SuspensionKind::Approval);
    assert_eq!(suspension.tool_name, "pay");
    assert_eq!(suspension.args, json!({"amount": 3}));
    assert!(seen.finished.is_empty(), "a paused run has not finished");
    assert_eq!(runs.get(), 0);
}

#[tokio::test]
async fn on_abort_fires_with_the_text_so_far() {
    let model = slow_writer(
        &["one ", "two ", "three ", "four"],
        Duration::from_millis(30),
    );
    let durable = create_durable_agent(Agent::builder("slow", model).build()).build();
    let signal = AbortSignal::new();
    let (options, seen) = recording(StreamOptions::new().abort_signal(signal.clone()));
    let mut stream = durable.stream("go", options).await.unwrap();
    let mut read = read_until(&mut stream, "text-delta").await;
    signal.abort();
    read.extend(read_chunks(stream).await);
    let finish = finish_of(&read);
    assert_eq!(finish.step_result.reason, FinishReason::Abort);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.aborted.len(), 1, "on-abort fires once");
    assert_eq!(seen.aborted[0].finish_reason, FinishReason::Abort);
    assert_eq!(seen.aborted[0].text, text_of(&read));
    assert_eq!(finish.output.text.as_deref(), Some(text_of(&read).as_str()));
    assert!(seen.aborted[0].text.starts_with("one "));
    assert_ne!(seen.aborted[0].text, "one two three four");
    assert!(
        seen.finished.is_empty(),
        "an aborted run does not call on-finish"
    );
    assert!(seen.errors.is_empty());
}
