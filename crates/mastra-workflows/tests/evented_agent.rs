//! The durable agent on the evented engine: runs queued and taken step by step by workers,
//! on one instance or across instances sharing the transport (checklist 24), approvals and
//! aborts from anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures::StreamExt;
use mastra_core::{FinishReason, StreamOptions, Usage};
use mastra_pubsub::EventType;
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_tool_round_run_completes_step_by_step() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let (engine, durable) = deployment.instance("a", agent(&model, &lookups));
    let _workers = engine.start_workers(2).await.unwrap();

    let stream = durable
        .stream("question", StreamOptions::new())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    let output = stream.output().await.unwrap();
    assert_eq!(output.text, "Let me look.Once more.The answer is 42.");
    assert_eq!(output.usage, Usage::new(30, 15));
    assert_eq!(output.finish_reason, FinishReason::Stop);
    assert_eq!(
        lookups.keys(),
        [format!("{run_id}:call-0"), format!("{run_id}:call-1")]
    );
    let mut events = durable.observe(&run_id, 0).await.unwrap();
    let mut finishes = 0;
    while let Some(event) = events.next().await {
        let event = event.unwrap();
        assert!(
            event.index == Some(0) || event.generation.is_some(),
            "{event:?}"
        );
        finishes += usize::from(event.kind == EventType::Finish);
    }
    assert_eq!(finishes, 1);
    assert!(no_active_runs(&engine).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_started_without_workers_is_executed_by_a_worker_instance() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let (_api, starter) = deployment.instance("api", agent(&model, &lookups));
    let (worker_engine, _) = deployment.instance("worker", agent(&model, &lookups));
    let workers = worker_engine.start_workers(1).await.unwrap();

    let output = tokio::time::timeout(
        Duration::from_secs(10),
        starter.generate("question", StreamOptions::new()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(output.text, "Let me look.Once more.The answer is 42.");
    assert_eq!(output.usage, Usage::new(30, 15));
    assert_eq!(workers.owners(), ["worker/0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_pause_the_run_and_any_instance_resumes_it() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let (engine, durable) = deployment.instance("a", agent(&model, &lookups));
    let (_api, other) = deployment.instance("b", agent(&model, &lookups));
    let _workers = engine.start_workers(1).await.unwrap();
    let mut options = StreamOptions::new();
    options.require_tool_approval = true;

    let stream = durable.stream("question", options).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut answered = 0;
    let mut stream = stream;
    let mut text = String::new();
    loop {
        // Read until the run pauses, then approve the call from the other instance.
        let mut call = None;
        while let Some(chunk) = stream.next().await {
            match chunk.unwrap().kind {
                mastra_core::ChunkKind::ToolCallApproval(p) => call = Some(p.tool_call_id),
                mastra_core::ChunkKind::TextDelta(d) => text.push_str(&d.text),
                _ => {}
            }
            if call.is_some() {
                break;
            }
        }
        let Some(call) = call else { break };
        stream = other.approve_tool_call(&run_id, &call).await.unwrap();
        answered += 1;
    }
    assert_eq!(answered, 2);
    assert_eq!(text, "Let me look.Once more.The answer is 42.");
    assert_eq!(lookups.keys().len(), 2);
    assert!(no_active_runs(&engine).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_from_another_instance_stops_an_executing_run_once() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let (engine, durable) = deployment.instance("a", agent(&model, &lookups));
    let (_api, other) = deployment.instance("b", agent(&model, &lookups));
    model.gate.stop_at(1);
    let _workers = engine.start_workers(1).await.unwrap();
    let on_abort = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = on_abort.clone();
    let options = StreamOptions::new().on_abort(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let stream = durable.stream("question", options).await.unwrap();
    let run_id = stream.run_id().to_owned();
    tokio::time::timeout(Duration::from_secs(5), model.gate.reached.notified())
        .await
        .unwrap();

    other.abort_run(&run_id).await.unwrap();
    let output = tokio::time::timeout(Duration::from_secs(5), stream.output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.finish_reason, FinishReason::Abort);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let events = envelopes(&durable, &run_id).await;
    let terminal = events.iter().filter(|e| e.is_terminal()).count();
    assert_eq!(terminal, 1);
    assert_eq!(on_abort.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(model.gate.calls(), 2, "no model call after the abort");
    assert!(no_active_runs(&engine).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_of_a_queued_run_ends_it_at_its_next_step() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let (_api, durable) = deployment.instance("api", agent(&model, &lookups));
    let (worker_engine, other) = deployment.instance("worker", agent(&model, &lookups));
    // Queued with no worker anywhere: its message is lost with no group to keep it.
    let stream = durable
        .stream("question", StreamOptions::new())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    other.abort_run(&run_id).await.unwrap();
    let _workers = worker_engine.start_workers(1).await.unwrap();
    assert_eq!(
        worker_engine.recover_active_runs().await.unwrap(),
        std::slice::from_ref(&run_id)
    );
    let output = tokio::time::timeout(Duration::from_secs(5), stream.output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.finish_reason, FinishReason::Abort);
    assert_eq!(model.gate.calls(), 0, "the model was never called");
    let events = envelopes(&durable, &run_id).await;
    assert_eq!(events.iter().filter(|e| e.is_terminal()).count(), 1);
}
