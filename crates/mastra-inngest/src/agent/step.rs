//! The agent function: replays the run's state from step deltas, takes each agent step as
//! one `step.run`, and waits for the answer of a paused run with `WaitForEvent`.

use super::abort;
use super::delta::{apply, diff, Delta};
use super::{lock, InngestEngine, RESUME_EVENT};
use crate::{FunctionInput, StepError, StepTools, WaitForEvent};
use async_trait::async_trait;
use mastra_core::{AbortSignal, Callbacks, RunState, StepProgress};
use mastra_durable::engine::{DriveOutcome, EngineRun, RunContext, WriteFence};
use mastra_pubsub::{Event, EventType};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

/// How long a paused run waits for its answer.
const ANSWER_TIMEOUT: &str = "30d";
/// Generations per step: `step * STRIDE + attempt + 1` rises with every attempt.
const STRIDE: u64 = 32;

/// What one agent step returns to Inngest (and gets back memoized).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StepDelta {
    outcome: Outcome,
    state: Delta,
    log_len: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Outcome {
    Continue,
    Suspended,
    Done,
}

fn decode<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, StepError> {
    serde_json::from_value(value)
        .map_err(|e| StepError::non_retriable(format!("malformed {what}: {e}")))
}

pub(super) async fn run_agent(
    engine: InngestEngine,
    input: FunctionInput,
    step: StepTools,
) -> Result<Value, StepError> {
    let data = &input.event.data;
    let agent_id = data
        .get("agentId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let ctx = engine.context(agent_id).ok_or_else(|| {
        // Retriable: the agent may be registered by the time the server retries.
        StepError::new(format!(
            "no durable agent {agent_id:?} is registered with this engine"
        ))
    })?;
    let mut state: Value = data.get("state").cloned().unwrap_or(Value::Null);
    let mut log_len: Option<u64> = data.get("logLen").and_then(Value::as_u64);
    for index in 0u64.. {
        let (engine, ctx, before) = (engine.clone(), ctx.clone(), state.clone());
        let generation = index * STRIDE + u64::from(input.attempt.min(STRIDE as u32 - 1)) + 1;
        let delta: StepDelta = step
            .run("agent-step", async move {
                take_step(&engine, &ctx, before, generation, log_len).await
            })
            .await?;
        apply(&mut state, &delta.state)
            .map_err(|e| StepError::non_retriable(format!("malformed step delta: {e}")))?;
        log_len = delta.log_len.or(log_len);
        match delta.outcome {
            Outcome::Continue => {}
            Outcome::Done => {
                let run_id = state.get("runId").cloned().unwrap_or(Value::Null);
                return Ok(json!({"runId": run_id, "text": state.get("text")}));
            }
            Outcome::Suspended => {
                let wait = WaitForEvent {
                    event: RESUME_EVENT.into(),
                    timeout: ANSWER_TIMEOUT.into(),
                    condition: Some("async.data.runId == event.data.runId".into()),
                };
                let Some(answer) = step.wait_for_event("answer", wait).await? else {
                    return Err(StepError::non_retriable(
                        "the paused run got no answer in time",
                    ));
                };
                // Aborted while paused: the aborting caller wrote the `finish`.
                if answer.data.get("abort").and_then(Value::as_bool) == Some(true) {
                    let run_id = state.get("runId").cloned().unwrap_or(Value::Null);
                    return Ok(json!({"runId": run_id, "aborted": true}));
                }
                state = answer.data.get("state").cloned().unwrap_or(Value::Null);
                log_len = answer
                    .data
                    .get("logLen")
                    .and_then(Value::as_u64)
                    .or(log_len);
            }
        }
    }
    Err(StepError::non_retriable("too many agent steps"))
}

/// Inngest runs at most one attempt of a step at a time: writes need no fence.
#[derive(Debug)]
struct Unfenced;

#[async_trait]
impl WriteFence for Unfenced {
    async fn may_write(&self, _terminal: bool) -> bool {
        true
    }
}

/// One agent step, executed once per attempt by Inngest.
async fn take_step(
    engine: &InngestEngine,
    ctx: &RunContext,
    before: Value,
    generation: u64,
    expected_log_len: Option<u64>,
) -> Result<StepDelta, StepError> {
    let state: RunState = decode(before.clone(), "run state")?;
    let run_id = state.run_id.clone();
    let retriable = |what: &str, e: &dyn std::fmt::Display| StepError::new(format!("{what}: {e}"));
    // An earlier attempt of this step may have written events before failing: tell
    // observers they are void, as the evented engine does for a re-claimed step.
    if let Some(expected) = expected_log_len {
        let now = ctx
            .channel
            .log_len(&run_id)
            .await
            .map_err(|e| retriable("log", &e))?;
        if now > expected {
            let data = json!({"generation": generation, "voidFrom": expected, "step": generation / STRIDE});
            let event =
                Event::new(EventType::OwnershipClaimed, &run_id, data).with_generation(generation);
            ctx.channel
                .publish(&run_id, event)
                .await
                .map_err(|e| retriable("publish", &e))?;
        }
    }
    let (callbacks, abort) = lock(&engine.inner.local)
        .get(&run_id)
        .cloned()
        .unwrap_or_else(|| (Callbacks::default(), AbortSignal::new()));
    let listener = ctx
        .abort_listener(&run_id, abort.clone())
        .await
        .map_err(|e| retriable("control topic", &e))?;
    // After listening: an abort from now on is heard, one from before is recorded.
    if abort::already_ended(ctx, &run_id)
        .await
        .map_err(|e| retriable("log", &e))?
    {
        lock(&engine.inner.local).remove(&run_id);
        return Ok(StepDelta {
            outcome: Outcome::Done,
            state: diff(&before, &before),
            log_len: None,
        });
    }
    if abort::requested(ctx, &run_id)
        .await
        .map_err(|e| retriable("abort record", &e))?
    {
        abort.abort();
    }
    lock(&engine.inner.executing).insert(run_id.clone(), abort.clone());
    let run = EngineRun {
        state,
        callbacks,
        abort,
    };
    let mut executor = ctx.fenced_executor(run, generation, Arc::new(Unfenced));
    let progress = tokio::select! {
        progress = executor.step() => progress,
        // Aborts the signal, then never ends: the executor writes the aborted finish.
        () = listener => return Err(StepError::new("aborted")),
    };
    lock(&engine.inner.executing).remove(&run_id);
    let after = serde_json::to_value(executor.state())
        .map_err(|e| StepError::non_retriable(format!("run state: {e}")))?;
    let outcome = match progress {
        Ok(StepProgress::Continue) => Outcome::Continue,
        Ok(StepProgress::Suspended(suspensions)) => {
            // Paused runs are the store's (`run_status` reads `Suspended` there) from the
            // moment `suspended` is written; a resume brings its own live parts.
            lock(&engine.inner.local).remove(&run_id);
            match ctx.suspend(executor, suspensions).await {
                DriveOutcome::Suspended(_) => Outcome::Suspended,
                DriveOutcome::Lost(error) => return Err(retriable("suspending", &error)),
                _ => Outcome::Done,
            }
        }
        Ok(_) => Outcome::Done,
        Err(_) => return Err(StepError::new("the run's channel closed")),
    };
    if outcome == Outcome::Done {
        ctx.finished(&run_id).await;
        lock(&engine.inner.local).remove(&run_id);
    }
    let log_len = ctx.channel.log_len(&run_id).await.ok();
    Ok(StepDelta {
        outcome,
        state: diff(&before, &after),
        log_len,
    })
}
