//! `DurableAgent`: an agent whose runs are written to a per-run log and executed by an
//! [`ExecutionEngine`](crate::engine::ExecutionEngine), so that they outlive their client
//! connection and can be observed from any event index.
//!
//! ```
//! use futures::StreamExt;
//! use mastra_core::{demo, Agent, StreamOptions};
//! use mastra_durable::create_durable_agent;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), mastra_durable::DurableError> {
//! let agent = Agent::builder("counter", demo::DemoModel::new()).build();
//! let durable = create_durable_agent(agent).build();
//!
//! let mut stream = durable.stream("count to 5", StreamOptions::new()).await?;
//! let run_id = stream.run_id().to_owned();
//! stream.next().await; // read one chunk, then hang up: the run goes on
//! drop(stream);
//!
//! // Reconnect from index 3: events 3, 4, ... up to `finish`.
//! let mut events = durable.observe(&run_id, 3).await?;
//! let mut indices = Vec::new();
//! while let Some(event) = events.next().await {
//!     indices.push(event?.index.unwrap_or_default());
//! }
//! assert_eq!(indices.first(), Some(&3));
//! # Ok(()) }
//! ```

mod builder;
pub(crate) mod channel;
pub(crate) mod envelope;
pub(crate) mod sink;
mod stream;

pub(crate) use builder::Defaults;
pub use builder::{create_durable_agent, DurableAgentBuilder, DEFAULT_CLEANUP_TIMEOUT};
pub use channel::{EventStream, RunChannel};
pub use envelope::{chunk_event, event_chunk, suspended_event};
pub use stream::DurableStream;

use crate::control::abort_request;
use crate::engine::{EngineRun, ExecutionEngine, RunContext};
use crate::store::RunStatus;
use crate::{agent_control_topic, agent_stream_topic, DurableError};
use mastra_core::{Agent, AgentOutput, Approval, MessageInput, RunState, StreamOptions};
use mastra_pubsub::PublishOptions;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// An agent with resumable streams. Cheap to clone.
#[derive(Clone)]
pub struct DurableAgent {
    inner: Arc<DurableInner>,
}

struct DurableInner {
    ctx: RunContext,
    engine: Arc<dyn ExecutionEngine>,
    max_steps: u32,
    observe_idle_timeout: Option<Duration>,
}

impl fmt::Debug for DurableAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableAgent")
            .field("id", &self.id())
            .field("engine", &self.inner.engine.name())
            .field("resumable", &self.inner.ctx.channel.is_resumable())
            .finish_non_exhaustive()
    }
}

/// An answer that lets a paused run go on.
#[derive(Debug, Clone, PartialEq)]
pub enum RunAnswer {
    Approve {
        tool_call_id: String,
    },
    Decline {
        tool_call_id: String,
    },
    Resume {
        tool_call_id: Option<String>,
        data: Value,
    },
}

impl DurableAgent {
    pub fn id(&self) -> &str {
        self.inner.ctx.agent.id()
    }

    pub fn name(&self) -> &str {
        self.inner.ctx.agent.name()
    }

    /// The wrapped agent.
    pub fn agent(&self) -> &Agent {
        &self.inner.ctx.agent
    }

    /// What engines execute this agent's runs with.
    pub fn context(&self) -> &RunContext {
        &self.inner.ctx
    }

    /// Starts a run and streams its chunks from the run's log. Returns once the run's
    /// `start` event is logged, so the run can be observed as soon as its id is known.
    pub async fn stream(
        &self,
        messages: impl Into<MessageInput>,
        options: StreamOptions,
    ) -> Result<DurableStream, DurableError> {
        let ctx = &self.inner.ctx;
        let mut options = options;
        options.max_steps = Some(options.max_steps.unwrap_or(self.inner.max_steps));
        let state = ctx
            .agent
            .new_run_state(messages.into().into_messages(), &options);
        let run_id = state.run_id.clone();
        // One id, one run: a second run under the id of a logged or paused one would share
        // its log, and this stream would replay the old run and end at its `finish`.
        if ctx.channel.log_len(&run_id).await? > 0 || self.run_status(&run_id).await?.is_some() {
            return Err(DurableError::RunState {
                run_id,
                reason: "a run with this id already exists".into(),
            });
        }
        // Subscribe first: the observer sees the run from its first event.
        let events = ctx
            .channel
            .observe(&run_id, 0, self.inner.observe_idle_timeout, false)
            .await?;
        let state = ctx.announce(state, options.callbacks.clone()).await?;
        let abort = options
            .abort
            .as_ref()
            .map(|s| s.child())
            .unwrap_or_default();
        let run = EngineRun {
            state,
            callbacks: options.callbacks,
            abort: abort.clone(),
        };
        if let Err(error) = self.inner.engine.start(ctx, run).await {
            // The run's `start` is logged: end it, so that its readers do not wait forever.
            ctx.fail_unstarted(&run_id, &error).await;
            return Err(error);
        }
        Ok(DurableStream::new(self.clone(), run_id, events, abort)
            .with_memory(options.thread_id, options.resource_id))
    }

    /// Runs to the end and returns the full output.
    pub async fn generate(
        &self,
        messages: impl Into<MessageInput>,
        options: StreamOptions,
    ) -> Result<AgentOutput, DurableError> {
        self.stream(messages, options).await?.output().await
    }

    /// The run's envelopes from index `offset` (inclusive): replayed from the log, then
    /// live, ending after the terminal event. An unknown, expired or cleared run fails at
    /// once with [`DurableError::UnknownRun`]. Without a log (`no_cache()`), only a run that
    /// executes here or waits in the run store can be followed, live from now on.
    pub async fn observe(&self, run_id: &str, offset: u64) -> Result<EventStream, DurableError> {
        let channel = &self.inner.ctx.channel;
        let events = channel
            .observe(run_id, offset, self.inner.observe_idle_timeout, true)
            .await?;
        if channel.is_resumable() {
            // One read of the log's length per join, for the replay-lag metric.
            if let Ok(len) = channel.log_len(run_id).await {
                crate::engine::metrics::observer_joined(len.saturating_sub(offset));
            }
        }
        // Subscribed first, so a run that ends from here on still delivers its terminal
        // event; any other run would leave the observer waiting for events that never come.
        if !channel.is_resumable() && self.run_status(run_id).await?.is_none() {
            return Err(DurableError::UnknownRun {
                topic: agent_stream_topic(run_id),
            });
        }
        Ok(events)
    }

    /// The run's chunks from index `offset`, as [`observe`](Self::observe) finds them.
    pub async fn observe_chunks(
        &self,
        run_id: &str,
        offset: u64,
    ) -> Result<DurableStream, DurableError> {
        let events = self.observe(run_id, offset).await?;
        Ok(DurableStream::new(
            self.clone(),
            run_id.to_owned(),
            events,
            Default::default(),
        ))
    }

    /// Aborts a run wherever it executes: here through the engine, elsewhere through an
    /// `abort-request` on `agent.control.<runId>`; a paused run is finished here. The run
    /// ends with exactly one `finish` of reason `abort`.
    pub async fn abort_run(&self, run_id: &str) -> Result<(), DurableError> {
        let ctx = &self.inner.ctx;
        // The engine first: a run executing here, even one that is pausing right now, is
        // ended by its own task (which checks the signal once it has paused).
        if self.inner.engine.abort(run_id).await {
            return Ok(());
        }
        if let Some(record) = ctx.store.take(run_id).await? {
            return ctx.finish_paused_as_aborted(record).await;
        }
        let transport = ctx.channel.transport();
        transport
            .publish(
                &agent_control_topic(run_id),
                abort_request(run_id),
                PublishOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// Approves a tool call the run waits on; the tool runs and the run goes on.
    pub async fn approve_tool_call(
        &self,
        run_id: &str,
        tool_call_id: &str,
    ) -> Result<DurableStream, DurableError> {
        let answer = RunAnswer::Approve {
            tool_call_id: tool_call_id.to_owned(),
        };
        self.continue_run(run_id, answer, StreamOptions::new())
            .await
    }

    /// Declines a tool call the run waits on; the model is told and goes on.
    pub async fn decline_tool_call(
        &self,
        run_id: &str,
        tool_call_id: &str,
    ) -> Result<DurableStream, DurableError> {
        let answer = RunAnswer::Decline {
            tool_call_id: tool_call_id.to_owned(),
        };
        self.continue_run(run_id, answer, StreamOptions::new())
            .await
    }

    /// Hands `data` to a suspended tool call (the only one, when `tool_call_id` is `None`).
    pub async fn resume(
        &self,
        run_id: &str,
        data: Value,
        tool_call_id: Option<&str>,
    ) -> Result<DurableStream, DurableError> {
        let answer = RunAnswer::Resume {
            tool_call_id: tool_call_id.map(str::to_owned),
            data,
        };
        self.continue_run(run_id, answer, StreamOptions::new())
            .await
    }

    /// Continues a paused run with `answer`, with this call's callbacks and abort signal.
    /// The returned stream starts at the log's current length: nothing is sent twice.
    pub async fn continue_run(
        &self,
        run_id: &str,
        answer: RunAnswer,
        options: StreamOptions,
    ) -> Result<DurableStream, DurableError> {
        let ctx = &self.inner.ctx;
        let Some(mut record) = ctx.store.take(run_id).await? else {
            return Err(DurableError::RunState {
                run_id: run_id.to_owned(),
                reason: "it is not waiting for an approval or resume data".into(),
            });
        };
        if let Err(error) = apply(&mut record.state, answer) {
            ctx.store.save(&record).await?;
            return Err(error.into());
        }
        let offset = ctx.channel.log_len(run_id).await?;
        let events = ctx
            .channel
            .observe(run_id, offset, self.inner.observe_idle_timeout, false)
            .await?;
        let abort = options
            .abort
            .as_ref()
            .map(|s| s.child())
            .unwrap_or_default();
        let thread_id = record.state.thread_id.clone();
        let resource_id = record.state.resource_id.clone();
        let run = EngineRun {
            state: record.state.clone(),
            callbacks: options.callbacks,
            abort: abort.clone(),
        };
        if let Err(error) = self.inner.engine.resume(ctx, run).await {
            // Put the answered state back, so that the run can be resumed again.
            ctx.store.save(&record).await?;
            return Err(error);
        }
        Ok(
            DurableStream::new(self.clone(), run_id.to_owned(), events, abort)
                .with_memory(thread_id, resource_id),
        )
    }

    /// Where a run stands: executing, paused, or neither (`None`: finished, or unknown).
    pub async fn run_status(&self, run_id: &str) -> Result<Option<RunStatus>, DurableError> {
        if let Some(status) = self.inner.engine.status(run_id) {
            return Ok(Some(status));
        }
        Ok(self.inner.ctx.store.load(run_id).await?.map(|r| r.status))
    }

    /// The paused run's state, if it is paused.
    pub async fn paused_state(&self, run_id: &str) -> Result<Option<RunState>, DurableError> {
        Ok(self.inner.ctx.store.load(run_id).await?.map(|r| r.state))
    }

    /// Removes the run's stored state and its logged events now. A paused run is first
    /// finished as aborted, so that its readers end.
    pub async fn cleanup(&self, run_id: &str) -> Result<(), DurableError> {
        let ctx = &self.inner.ctx;
        if let Some(record) = ctx.store.take(run_id).await? {
            ctx.finish_paused_as_aborted(record).await?;
        }
        ctx.channel.clear(run_id).await
    }
}

fn apply(state: &mut RunState, answer: RunAnswer) -> Result<(), mastra_core::AgentError> {
    match answer {
        RunAnswer::Approve { tool_call_id } => state.decide(&tool_call_id, Approval::Approved),
        RunAnswer::Decline { tool_call_id } => state.decide(&tool_call_id, Approval::Declined),
        RunAnswer::Resume { tool_call_id, data } => {
            state.resume_call(tool_call_id.as_deref(), data)
        }
    }
}
