//! `create_inngest_agent`: durable agent runs executed as one Inngest function.
//!
//! `stream()` logs the run's `start`, then the engine sends the trigger event
//! ([`RUN_EVENT`], carrying the initial state). Inngest calls the function: each agent step
//! (a model call, or the tool calls it asked for) is one `step.run` whose output is a small
//! delta of the state, and whose chunks go to the run's channel, so `observe` works from
//! any instance sharing the cache. A paused run (tool approval or suspension) is stored as
//! for any durable agent and waits with `WaitForEvent` for [`RESUME_EVENT`], which
//! `approve_tool_call`/`decline_tool_call`/`resume` send through the engine.
//!
//! Aborting records the abort next to the run's log, then asks over the control topic: a
//! step executing anywhere stops at once and writes the aborted `finish`; when no step is
//! executing (Inngest has not called the next one yet), the next step finds the record and
//! writes it instead. The function has no `cancelOn`: cancelling it at the next step
//! boundary would leave nobody to write the terminal event. A paused run is finished by the
//! aborting caller (from the run-state store), and its wait ends with a resume event that
//! carries `"abort": true`.
//!
//! A step whose answer never reached Inngest (a worker lost mid-step) is taken again on the
//! next attempt; before it writes anything, it publishes `ownership-claimed` with
//! `voidFrom` = the log length its previous step left, and stamps its events with a higher
//! generation, so observers drop what the lost attempt wrote (the evented engine's rule).
//!
//! Known limits:
//! - With `no_cache()` (no run log) an abort between steps is recorded nowhere: only a step
//!   executing when it arrives hears it.
//! - The resume event carries the whole answered state (the trigger carries the initial
//!   state); step outputs carry deltas only. Events are limited to 512 KB by default.
//! - A model or tool error ends the run with its `error` event as on any engine; it is not
//!   turned into an Inngest step retry.

mod abort;
mod delta;
mod step;

use crate::{Event, Inngest, InngestError, InngestFunction};
use async_trait::async_trait;
use mastra_core::{AbortSignal, Agent, Callbacks};
use mastra_durable::engine::{EngineRun, ExecutionEngine, RunContext};
use mastra_durable::{
    create_durable_agent, DurableAgent, DurableAgentBuilder, DurableError, RunStatus,
};
use serde_json::json;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// The function id (within the app) that runs durable agents.
pub const AGENT_FUNCTION_ID: &str = "mastra-durable-agent";
/// The trigger: `{runId, agentId, state, logLen}`.
pub const RUN_EVENT: &str = "mastra/agent.run";
/// A paused run's answer: `{runId, state, logLen}`, or `{runId, abort: true}` when the
/// paused run was aborted (its `finish` is written by then).
pub const RESUME_EVENT: &str = "mastra/agent.resume";

/// The durable agent on Inngest: build it, register it with the engine (in every process
/// that serves the function), and serve [`InngestEngine::function`].
pub fn create_inngest_agent(agent: Agent, engine: &InngestEngine) -> DurableAgentBuilder {
    create_durable_agent(agent).engine(Arc::new(engine.clone()))
}

/// The [`ExecutionEngine`] that hands runs to Inngest.
#[derive(Clone)]
pub struct InngestEngine {
    inner: Arc<Inner>,
}

struct Inner {
    inngest: Inngest,
    agents: Mutex<HashMap<String, RunContext>>,
    /// Runs started in this process: their live parts (callbacks, abort signal).
    local: Mutex<HashMap<String, (Callbacks, AbortSignal)>>,
    /// Runs with a step executing in this process.
    executing: Mutex<HashMap<String, AbortSignal>>,
}

impl fmt::Debug for InngestEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InngestEngine")
            .field("app", &self.inner.inngest.config().app_id)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn engine_error(error: InngestError) -> DurableError {
    DurableError::Backend {
        retryable: error.is_retryable(),
        source: Box::new(error),
    }
}

impl InngestEngine {
    pub fn new(inngest: Inngest) -> Self {
        Self {
            inner: Arc::new(Inner {
                inngest,
                agents: Mutex::default(),
                local: Mutex::default(),
                executing: Mutex::default(),
            }),
        }
    }

    pub fn inngest(&self) -> &Inngest {
        &self.inner.inngest
    }

    /// Makes `agent`'s runs executable here (starting a run registers it too).
    pub fn register(&self, agent: &DurableAgent) {
        self.register_context(agent.context());
    }

    fn register_context(&self, ctx: &RunContext) {
        lock(&self.inner.agents).insert(ctx.agent.id().to_owned(), ctx.clone());
    }

    fn context(&self, agent_id: &str) -> Option<RunContext> {
        lock(&self.inner.agents).get(agent_id).cloned()
    }

    /// The Inngest function executing every registered agent's runs; serve it with
    /// [`crate::serve`].
    pub fn function(&self) -> InngestFunction {
        let engine = self.clone();
        InngestFunction::new(AGENT_FUNCTION_ID, RUN_EVENT, move |input, step| {
            step::run_agent(engine.clone(), input, step)
        })
        .name("Mastra durable agent")
    }

    async fn send(
        &self,
        name: &str,
        data: serde_json::Value,
        id: Option<String>,
    ) -> Result<(), DurableError> {
        let mut event = Event::new(name, data);
        event.id = id;
        self.inner
            .inngest
            .send(&[event])
            .await
            .map_err(engine_error)?;
        Ok(())
    }
}

#[async_trait]
impl ExecutionEngine for InngestEngine {
    fn name(&self) -> &str {
        "inngest"
    }

    async fn start(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError> {
        self.register_context(ctx);
        let run_id = run.state.run_id.clone();
        let log_len = ctx.channel.log_len(&run_id).await?;
        lock(&self.inner.local).insert(run_id.clone(), (run.callbacks, run.abort));
        let data = json!({
            "runId": run_id, "agentId": ctx.agent.id(), "state": run.state, "logLen": log_len,
        });
        // The event id makes a re-sent trigger start no second run.
        let sent = self
            .send(RUN_EVENT, data, Some(format!("mastra-run-{run_id}")))
            .await;
        if sent.is_err() {
            lock(&self.inner.local).remove(&run_id);
        }
        sent
    }

    async fn resume(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError> {
        self.register_context(ctx);
        let run_id = run.state.run_id.clone();
        let log_len = ctx.channel.log_len(&run_id).await?;
        lock(&self.inner.local).insert(run_id.clone(), (run.callbacks, run.abort));
        let data = json!({"runId": run_id, "state": run.state, "logLen": log_len});
        self.send(RESUME_EVENT, data, None).await
    }

    async fn abort(&self, run_id: &str) -> bool {
        // Recorded before anyone is asked, so a step starting from now on finds it.
        let contexts: Vec<RunContext> = lock(&self.inner.agents).values().cloned().collect();
        for ctx in &contexts {
            if let Err(error) = abort::request(ctx, run_id).await {
                tracing::warn!(%run_id, %error, "cannot record the abort of an Inngest run");
            }
        }
        // Ends the wait of a paused run (a run that is not waiting ignores it).
        if let Err(error) = self
            .send(RESUME_EVENT, json!({"runId": run_id, "abort": true}), None)
            .await
        {
            tracing::warn!(%run_id, %error, "cannot send the abort to a waiting Inngest run");
        }
        match lock(&self.inner.executing).get(run_id) {
            Some(signal) => {
                signal.abort();
                true
            }
            None => false,
        }
    }

    fn status(&self, run_id: &str) -> Option<RunStatus> {
        let running = lock(&self.inner.executing).contains_key(run_id)
            || lock(&self.inner.local).contains_key(run_id);
        running.then_some(RunStatus::Running)
    }
}
