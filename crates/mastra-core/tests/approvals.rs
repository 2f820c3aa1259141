//! Tool approval, tool suspension and custom data chunks, at the executor level: a run pauses
//! with its state serializable, and continues once the answer is recorded in the state.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use futures::StreamExt;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::tool::{tool, ToolContext};
use mastra_core::{
    AbortSignal, Agent, Approval, Callbacks, Chunk, ChunkKind, FinishReason, Message, RunState,
    StepProgress, StreamOptions, SuspensionKind, ToolError,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Deserialize, schemars::JsonSchema)]
struct Pay {
    amount: u32,
}

fn pay_tool(runs: Arc<AtomicUsize>) -> impl mastra_core::Tool {
    tool("pay", "pays", move |input: Pay, _ctx: ToolContext| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ToolError>(json!({"paid": input.amount}))
        }
    })
    .with_approval(true)
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Empty {}

fn echo_tool() -> impl mastra_core::Tool {
    tool("echo", "echoes", |_: Empty, ctx: ToolContext| async move {
        Ok::<_, ToolError>(json!(ctx.tool_call_id))
    })
}

/// Steps until the run suspends or ends, passing the state through JSON at every step.
async fn drive(
    agent: &Agent,
    mut state: RunState,
    chunks: &mut Vec<Chunk>,
) -> (RunState, StepProgress) {
    loop {
        let restored: RunState =
            serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
        let mut executor = agent.executor(
            restored,
            AbortSignal::new(),
            Callbacks::default(),
            Vec::new(),
        );
        let progress = executor.step().await.unwrap();
        chunks.append(executor.sink_mut());
        state = executor.state().clone();
        if !matches!(progress, StepProgress::Continue) {
            return (state, progress);
        }
    }
}

fn kinds(chunks: &[Chunk]) -> Vec<String> {
    chunks.iter().map(|c| c.type_name().into_owned()).collect()
}

#[tokio::test]
async fn approval_pauses_the_run_and_approving_runs_the_tool() {
    let runs = Arc::new(AtomicUsize::new(0));
    let model = ScriptedModel::new([
        ScriptedResponse::new()
            .tool_call("pay", json!({"amount": 5}))
            .tool_call("echo", json!({})),
        ScriptedResponse::text("Paid."),
    ]);
    let agent = Agent::builder("a", model)
        .tool(pay_tool(runs.clone()))
        .tool(echo_tool())
        .build();
    let state = agent.new_run_state(vec![Message::user("pay 5")], &StreamOptions::new());
    let mut chunks = Vec::new();
    let (mut state, progress) = drive(&agent, state, &mut chunks).await;
    let StepProgress::Suspended(suspensions) = progress else {
        panic!("not suspended: {progress:?}")
    };
    assert_eq!(suspensions.len(), 1);
    assert_eq!(suspensions[0].kind, SuspensionKind::Approval);
    assert_eq!(suspensions[0].args, json!({"amount": 5}));
    assert_eq!(runs.load(Ordering::SeqCst), 0, "not run before approval");
    // The call that needs no approval ran; the other announced itself.
    assert!(kinds(&chunks).ends_with(&["tool-result".into(), "tool-call-approval".into()]));
    assert_eq!(state.suspensions(), suspensions);
    let approval_json = serde_json::to_value(&suspensions[0]).unwrap();
    assert_eq!(approval_json["type"], "approval");

    state
        .decide(&suspensions[0].tool_call_id, Approval::Approved)
        .unwrap();
    let mut more = Vec::new();
    let (_, progress) = drive(&agent, state, &mut more).await;
    let StepProgress::Done(Ok(output)) = progress else {
        panic!("not done: {progress:?}")
    };
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(output.text, "Paid.");
    assert_eq!(output.finish_reason, FinishReason::Stop);
    // Results in call order, each call run once.
    let results: Vec<&str> = output.steps[0]
        .tool_results
        .iter()
        .map(|r| r.tool_name.as_str())
        .collect();
    assert_eq!(results, ["pay", "echo"]);
    assert_eq!(
        more.iter()
            .filter(|c| matches!(c.kind, ChunkKind::ToolResult(_)))
            .count(),
        1
    );
    assert_eq!(
        more.iter()
            .filter(|c| matches!(c.kind, ChunkKind::Start(_)))
            .count(),
        0
    );
}

#[tokio::test]
async fn declining_records_a_denied_result_and_the_model_continues() {
    let runs = Arc::new(AtomicUsize::new(0));
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("pay", json!({"amount": 9})),
        ScriptedResponse::text("Understood, no payment."),
    ]);
    let agent = Agent::builder("a", model.clone())
        .tool(pay_tool(runs.clone()))
        .build();
    let state = agent.new_run_state(vec![Message::user("pay 9")], &StreamOptions::new());
    let (mut state, progress) = drive(&agent, state, &mut Vec::new()).await;
    let StepProgress::Suspended(s) = progress else {
        panic!("not suspended")
    };
    state
        .decide(&s[0].tool_call_id, Approval::Declined)
        .unwrap();
    let mut chunks = Vec::new();
    let (_, progress) = drive(&agent, state, &mut chunks).await;
    let StepProgress::Done(Ok(output)) = progress else {
        panic!("not done")
    };
    assert_eq!(runs.load(Ordering::SeqCst), 0, "a declined tool never runs");
    assert_eq!(output.text, "Understood, no payment.");
    let ChunkKind::ToolError(error) = &chunks
        .iter()
        .find(|c| matches!(c.kind, ChunkKind::ToolError(_)))
        .unwrap()
        .kind
    else {
        unreachable!()
    };
    assert_eq!(error.error.name, "ToolCallDeclinedError");
    let told = model.requests()[1].messages.last().cloned().unwrap();
    assert_eq!(told.role, mastra_core::Role::Tool);
}

#[tokio::test]
async fn a_tool_suspends_itself_and_gets_the_resume_data() {
    let ask = tool(
        "ask",
        "asks a person",
        |_: Empty, ctx: ToolContext| async move {
            match ctx.resume_data {
                None => Err(ToolError::Suspend(json!({"question": "Which colour?"}))),
                Some(answer) => Ok(json!({"colour": answer["colour"]})),
            }
        },
    );
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("ask", json!({})),
        ScriptedResponse::text("Blue it is."),
    ]);
    let agent = Agent::builder("a", model).tool(ask).build();
    let state = agent.new_run_state(vec![Message::user("paint")], &StreamOptions::new());
    let mut chunks = Vec::new();
    let (mut state, progress) = drive(&agent, state, &mut chunks).await;
    let StepProgress::Suspended(s) = progress else {
        panic!("not suspended")
    };
    assert_eq!(s[0].kind, SuspensionKind::Suspension);
    assert_eq!(
        s[0].suspend_payload,
        Some(json!({"question": "Which colour?"}))
    );
    let ChunkKind::ToolCallSuspended(payload) = &chunks.last().unwrap().kind else {
        panic!("no suspended chunk")
    };
    assert_eq!(payload.suspend_payload["question"], "Which colour?");

    assert!(
        state
            .decide(&s[0].tool_call_id, Approval::Approved)
            .is_err(),
        "a suspended call is resumed, not approved"
    );
    assert!(state.resume_call(Some("nope"), json!({})).is_err());
    state.resume_call(None, json!({"colour": "blue"})).unwrap();
    let (_, progress) = drive(&agent, state, &mut Vec::new()).await;
    let StepProgress::Done(Ok(output)) = progress else {
        panic!("not done")
    };
    assert_eq!(output.tool_results[0].result, json!({"colour": "blue"}));
    assert_eq!(output.text, "Blue it is.");
}

#[tokio::test]
async fn agent_wide_approval_and_the_plain_agent_finishing_suspended() {
    let model = ScriptedModel::new([ScriptedResponse::new().tool_call("echo", json!({}))]);
    let agent = Agent::builder("a", model).tool(echo_tool()).build();
    let suspended = Arc::new(AtomicUsize::new(0));
    let seen = suspended.clone();
    let options = StreamOptions {
        require_tool_approval: true,
        ..StreamOptions::new()
    }
    .on_suspended(move |s| {
        assert_eq!(s.tool_name, "echo");
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let chunks: Vec<Chunk> = agent.stream("go", options).collect().await;
    let types = kinds(&chunks);
    assert!(types.contains(&"tool-call-approval".to_owned()));
    assert!(!types.contains(&"tool-result".to_owned()));
    let ChunkKind::Finish(finish) = &chunks.last().unwrap().kind else {
        panic!("no finish")
    };
    assert_eq!(finish.step_result.reason, FinishReason::Suspended);
    assert_eq!(suspended.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn data_chunks_from_tools_arrive_before_the_result_and_the_finish() {
    let progress = tool(
        "work",
        "reports progress",
        |_: Empty, ctx: ToolContext| async move {
            for pct in [25, 50, 100] {
                ctx.write_data("progress", json!({"pct": pct}));
                tokio::task::yield_now().await;
            }
            Ok::<Value, ToolError>(json!("done"))
        },
    );
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("work", json!({})),
        ScriptedResponse::text("ok"),
    ]);
    let agent = Agent::builder("a", model).tool(progress).build();
    let chunks: Vec<Chunk> = agent.stream("go", StreamOptions::new()).collect().await;
    let types = kinds(&chunks);
    let data: Vec<usize> = types
        .iter()
        .enumerate()
        .filter(|(_, t)| *t == "data-progress")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(data.len(), 3);
    let result = types.iter().position(|t| t == "tool-result").unwrap();
    assert!(data.iter().all(|&i| i < result), "{types:?}");
    let ChunkKind::Data(last) = &chunks[data[2]].kind else {
        unreachable!()
    };
    assert_eq!(last.data, json!({"pct": 100}));
}
