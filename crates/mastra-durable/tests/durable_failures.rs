//! Failures around the engine: a run whose engine refuses it still ends, an answer whose
//! engine refuses it leaves the run resumable, and cleaning up a paused run ends its readers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

mod support;

use async_trait::async_trait;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{Agent, FinishReason, StreamOptions};
use mastra_durable::engine::{EngineRun, RunContext};
use mastra_durable::{create_durable_agent, DurableError, ExecutionEngine, LocalEngine, RunStatus};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use support::*;

/// Refuses every run while `refuse` is set, and otherwise runs them locally.
#[derive(Debug, Default)]
struct Flaky {
    refuse: AtomicBool,
    local: LocalEngine,
}

impl Flaky {
    fn check(&self) -> Result<(), DurableError> {
        if self.refuse.load(Ordering::SeqCst) {
            return Err(DurableError::RunState {
                run_id: String::new(),
                reason: "engine offline".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl ExecutionEngine for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    async fn start(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError> {
        self.check()?;
        self.local.start(ctx, run).await
    }
    async fn resume(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError> {
        self.check()?;
        self.local.resume(ctx, run).await
    }
    async fn abort(&self, run_id: &str) -> bool {
        self.local.abort(run_id).await
    }
    fn status(&self, run_id: &str) -> Option<RunStatus> {
        self.local.status(run_id)
    }
}

#[tokio::test]
async fn a_run_the_engine_refuses_ends_with_an_error_event() {
    let engine = Arc::new(Flaky::default());
    engine.refuse.store(true, Ordering::SeqCst);
    let agent = create_durable_agent(
        Agent::builder("a", ScriptedModel::new([ScriptedResponse::text("hi")])).build(),
    )
    .engine(engine)
    .build();
    let refused = agent
        .stream("go", StreamOptions::new().run_id("r-refused"))
        .await;
    assert!(
        matches!(refused, Err(DurableError::RunState { .. })),
        "{refused:?}"
    );
    let log = log_of(&agent, "r-refused").await;
    assert_eq!(
        event_kinds(&log),
        ["chunk", "error"],
        "start, then the one terminal event"
    );
    assert_eq!(log[1].data["error"]["name"], "EngineError");
}

#[tokio::test]
async fn an_answer_the_engine_refuses_leaves_the_run_resumable() {
    let engine = Arc::new(Flaky::default());
    let runs = Counter::default();
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("pay", json!({"amount": 3})),
        ScriptedResponse::text("paid"),
    ]);
    let agent = create_durable_agent(
        Agent::builder("a", model)
            .tool(pay_tool(runs.clone()))
            .build(),
    )
    .engine(engine.clone())
    .build();
    let mut stream = agent.stream("pay", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let seen = read_until(&mut stream, "tool-call-approval").await;
    let mastra_core::ChunkKind::ToolCallApproval(approval) = &seen.last().unwrap().kind else {
        unreachable!()
    };
    let call_id = approval.tool_call_id.clone();
    within("the pause", async {
        while agent.run_status(&run_id).await.unwrap() != Some(RunStatus::Suspended) {
            tokio::task::yield_now().await;
        }
    })
    .await;

    engine.refuse.store(true, Ordering::SeqCst);
    assert!(agent.approve_tool_call(&run_id, &call_id).await.is_err());
    assert_eq!(
        agent.run_status(&run_id).await.unwrap(),
        Some(RunStatus::Suspended),
        "still paused"
    );
    assert_eq!(runs.get(), 0);

    engine.refuse.store(false, Ordering::SeqCst);
    let resumed = agent.approve_tool_call(&run_id, &call_id).await.unwrap();
    let output = within("the resumed run", resumed.output()).await.unwrap();
    assert_eq!(output.text, "paid");
    assert_eq!(runs.get(), 1);
}

#[tokio::test]
async fn cleaning_up_a_paused_run_ends_its_readers() {
    let model =
        ScriptedModel::new([ScriptedResponse::new().tool_call("pay", json!({"amount": 1}))]);
    let agent = create_durable_agent(
        Agent::builder("a", model)
            .tool(pay_tool(Counter::default()))
            .build(),
    )
    .build();
    let mut stream = agent.stream("pay", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "tool-call-approval").await;
    within("the pause", async {
        while agent.run_status(&run_id).await.unwrap() != Some(RunStatus::Suspended) {
            tokio::task::yield_now().await;
        }
    })
    .await;
    agent.cleanup(&run_id).await.unwrap();
    // The reader ends: with the abort's finish, or with an explicit error if the log went
    // first; never a hang.
    let rest = within("the reader's end", async {
        let mut items = Vec::new();
        while let Some(item) = futures::StreamExt::next(&mut stream).await {
            items.push(item);
        }
        items
    })
    .await;
    if let Some(Ok(last)) = rest.last() {
        assert_eq!(
            finish_of(std::slice::from_ref(last)).step_result.reason,
            FinishReason::Abort
        );
    }
    assert!(agent.paused_state(&run_id).await.unwrap().is_none());
    assert_unknown_run(agent.observe(&run_id, 0).await, &run_id);
}
