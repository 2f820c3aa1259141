//! Aborting durable runs (checklist 18): through the stream's handle, through `abort_run`,
//! before the model is called, from another `Mastra` instance over the shared transport, and
//! while the run is paused. Every way ends the run with exactly one `finish` of reason
//! `abort` carrying the text streamed so far, and nothing after it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use mastra_cache::{InMemoryServerCache, ServerCache};
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{AbortSignal, Agent, FinishReason, StreamOptions};
use mastra_durable::{create_durable_agent, DurableAgent, Mastra};
use mastra_pubsub::{Event, EventEmitterPubSub, EventType, PubSub};
use serde_json::json;
use support::*;

const DELTAS: [&str; 8] = [
    "one ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight",
];
const PACE: Duration = Duration::from_millis(25);

/// Checks the ended run's log: one terminal event, a `finish` of reason `abort`, whose text
/// is exactly the text streamed before it; returns that text.
async fn assert_aborted(durable: &DurableAgent, run_id: &str) -> String {
    let log = log_of(durable, run_id).await;
    assert_contiguous(&log, 0);
    assert_eq!(terminal_count(&log), 1, "{:?}", event_kinds(&log));
    let finish = log.last().unwrap();
    assert_eq!(finish_reason(finish), FinishReason::Abort);
    let streamed = streamed_text(&log);
    assert_eq!(finish.data["output"]["text"], streamed.as_str());
    streamed
}

fn streamed_text(log: &[Arc<Event>]) -> String {
    log.iter()
        .filter(|e| e.data["type"] == "text-delta")
        .map(|e| e.data["payload"]["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Nothing is written after the terminal event, even a while later.
async fn assert_nothing_follows(durable: &DurableAgent, run_id: &str) {
    let before = log_of(durable, run_id).await.len();
    tokio::time::sleep(PACE * 4).await;
    assert_eq!(log_of(durable, run_id).await.len(), before);
}

#[tokio::test]
async fn aborting_through_the_stream_handle_reports_the_text_so_far() {
    let model = slow_writer(&DELTAS, PACE);
    let durable = create_durable_agent(Agent::builder("w", model.clone()).build()).build();
    let mut stream = durable.stream("write", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut read = read_until(&mut stream, "text-delta").await;
    read.extend(read_until(&mut stream, "text-delta").await);
    stream.abort();
    read.extend(read_chunks(stream).await);

    let finish = finish_of(&read);
    assert_eq!(finish.step_result.reason, FinishReason::Abort);
    let text = text_of(&read);
    assert!(text.starts_with("one two "), "{text}");
    assert!(text.len() < DELTAS.concat().len(), "stopped early: {text}");
    assert_eq!(finish.output.text.as_deref(), Some(text.as_str()));
    assert_eq!(assert_aborted(&durable, &run_id).await, text);
    assert_nothing_follows(&durable, &run_id).await;
    assert_eq!(model.calls(), 1);
    assert_eq!(durable.run_status(&run_id).await.unwrap(), None);
}

#[tokio::test]
async fn abort_run_stops_a_run_of_this_instance_with_no_reader_attached() {
    let model = slow_writer(&DELTAS, PACE);
    let durable = create_durable_agent(Agent::builder("w", model.clone()).build()).build();
    let mut stream = durable.stream("write", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "text-delta").await;
    drop(stream);
    durable.abort_run(&run_id).await.unwrap();

    let text = assert_aborted(&durable, &run_id).await;
    assert!(text.starts_with("one "), "{text}");
    assert_ne!(text, DELTAS.concat());
    assert_nothing_follows(&durable, &run_id).await;
    // Aborting a finished run changes nothing.
    durable.abort_run(&run_id).await.unwrap();
    assert_eq!(assert_aborted(&durable, &run_id).await, text);
}

#[tokio::test]
async fn a_run_aborted_before_its_first_step_never_calls_the_model() {
    let model = ScriptedModel::new([ScriptedResponse::text("never said")]);
    let durable = create_durable_agent(Agent::builder("w", model.clone()).build()).build();
    let signal = AbortSignal::new();
    signal.abort();
    let output = durable
        .generate("hi", StreamOptions::new().abort_signal(signal))
        .await
        .unwrap();
    assert_eq!(output.finish_reason, FinishReason::Abort);
    assert_eq!(output.text, "");
    assert!(output.steps.is_empty());
    assert_eq!(model.calls(), 0);
    let log = log_of(&durable, &output.run_id).await;
    assert_eq!(event_kinds(&log), ["chunk", "finish"]);
    assert_eq!(assert_aborted(&durable, &output.run_id).await, "");
}

fn instance(agent: &Agent, pubsub: &Arc<dyn PubSub>, cache: &Arc<dyn ServerCache>) -> Mastra {
    Mastra::builder()
        .pubsub(pubsub.clone())
        .cache(cache.clone())
        .durable_agent(create_durable_agent(agent.clone()))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_from_another_instance_stops_the_executor_over_the_control_topic() {
    let pubsub: Arc<dyn PubSub> = Arc::new(EventEmitterPubSub::new());
    let cache: Arc<dyn ServerCache> = Arc::new(InMemoryServerCache::new());
    let model = slow_writer(&DELTAS, PACE);
    let agent = Agent::builder("w", model.clone()).build();
    let (executing, other) = (
        instance(&agent, &pubsub, &cache),
        instance(&agent, &pubsub, &cache),
    );
    let here = executing.durable_agent("w").unwrap();
    let there = other.durable_agent("w").unwrap();

    let mut stream = here.stream("write", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "text-delta").await;
    assert_eq!(
        there.run_status(&run_id).await.unwrap(),
        None,
        "not executing there"
    );
    there.abort_run(&run_id).await.unwrap();

    let rest = read_chunks(stream).await;
    assert_eq!(finish_of(&rest).step_result.reason, FinishReason::Abort);
    // Both instances read the same log: one terminal event, the text so far.
    let text = assert_aborted(there, &run_id).await;
    assert_eq!(assert_aborted(here, &run_id).await, text);
    assert_ne!(text, DELTAS.concat());
    assert_nothing_follows(there, &run_id).await;
    assert_eq!(model.calls(), 1);
    within("the executor lets the run go", async {
        while here.run_status(&run_id).await.unwrap().is_some() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn aborting_a_paused_run_finishes_it_with_reason_abort() {
    let runs = Counter::default();
    let model = ScriptedModel::new([
        ScriptedResponse::new()
            .text_deltas(["Paying. "])
            .tool_call("pay", json!({"amount": 1})),
        ScriptedResponse::text("never said"),
    ]);
    let agent = Agent::builder("payer", model.clone())
        .tool(pay_tool(runs.clone()))
        .build();
    let durable = create_durable_agent(agent).build();
    let mut stream = durable.stream("pay", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "tool-call-approval").await;
    wait_paused(&durable, &run_id).await;

    durable.abort_run(&run_id).await.unwrap();
    // The reader still attached to the paused run sees it end.
    let rest = read_chunks(stream).await;
    assert_eq!(finish_of(&rest).step_result.reason, FinishReason::Abort);
    assert_eq!(assert_aborted(&durable, &run_id).await, "Paying. ");
    let log = log_of(&durable, &run_id).await;
    assert_eq!(
        log.iter()
            .filter(|e| e.kind == EventType::Suspended)
            .count(),
        1
    );
    assert!(durable.paused_state(&run_id).await.unwrap().is_none());
    assert!(durable.approve_tool_call(&run_id, "call_1").await.is_err());
    assert_eq!((runs.get(), model.calls()), (0, 1));
}

#[tokio::test]
async fn aborting_a_paused_run_through_its_stream_handle_finishes_it() {
    let model =
        ScriptedModel::new([ScriptedResponse::new().tool_call("pay", json!({"amount": 2}))]);
    let agent = Agent::builder("payer", model)
        .tool(pay_tool(Counter::default()))
        .build();
    let durable = create_durable_agent(agent).build();
    let mut stream = durable.stream("pay", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "tool-call-approval").await;
    wait_paused(&durable, &run_id).await;

    stream.abort();
    let rest = read_chunks(stream).await;
    assert_eq!(finish_of(&rest).step_result.reason, FinishReason::Abort);
    assert_eq!(assert_aborted(&durable, &run_id).await, "");
    assert!(durable.paused_state(&run_id).await.unwrap().is_none());
}

/// Waits until the run's executor has let it go and its state waits in the store.
async fn wait_paused(durable: &DurableAgent, run_id: &str) {
    within("the run pauses", async {
        loop {
            let status = durable.run_status(run_id).await.unwrap();
            if status == Some(mastra_durable::RunStatus::Suspended) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Nothing {}

#[tokio::test]
async fn an_abort_during_a_pausing_tool_pass_ends_the_run_instead_of_pausing_it() {
    let seen: Arc<std::sync::Mutex<Vec<Option<serde_json::Value>>>> = Default::default();
    let sleepy = mastra_core::tool::tool(
        "sleepy",
        "waits for the abort",
        |_: Nothing, ctx: mastra_core::ToolContext| async move {
            tokio::select! {
                () = ctx.abort.aborted() => Err(mastra_core::ToolError::Aborted),
                () = tokio::time::sleep(Duration::from_secs(5)) => Ok(json!("woke")),
            }
        },
    );
    let model = ScriptedModel::new([ScriptedResponse::new()
        .tool_call("ask", json!({"question": "Sure?"}))
        .tool_call("sleepy", json!({}))]);
    let agent = Agent::builder("a", model)
        .tool(ask_tool(seen.clone()))
        .tool(sleepy)
        .build();
    let durable = create_durable_agent(agent).build();
    let mut stream = durable.stream("go", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "tool-call").await;
    read_until(&mut stream, "tool-call").await;
    // Abort once `ask` has suspended (its chunk is held) while `sleepy` still runs.
    within("ask runs", async {
        while seen.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    stream.abort();
    let rest = read_chunks(stream).await;
    assert_eq!(finish_of(&rest).step_result.reason, FinishReason::Abort);
    // The suspension announced before the abort is still told, before the finish.
    assert_eq!(kinds(&rest), ["tool-call-suspended", "finish"]);
    let log = log_of(&durable, &run_id).await;
    assert!(log.iter().all(|e| e.kind != EventType::Suspended));
    assert_eq!(terminal_count(&log), 1);
    assert!(durable.paused_state(&run_id).await.unwrap().is_none());
}
