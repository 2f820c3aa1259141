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
    assert!(engine.list_active_runs().await.unwrap().is_empty());
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
