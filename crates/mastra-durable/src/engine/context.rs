//! What every engine needs to execute a durable agent's runs: the agent, the run channel,
//! the run-state store, and the shared way of taking steps and ending runs.

use super::{EngineRun, WriteFence};
use crate::agent::channel::RunChannel;
use crate::agent::envelope::{chunk_event, suspended_event};
use crate::agent::sink::{write, EventSink};
use crate::control::abort_request_received;
use crate::store::{RunRecord, RunStatus, RunStore};
use crate::{agent_control_topic, DurableError};
use mastra_core::chunk::ErrorPayload;
use mastra_core::{
    AbortSignal, Agent, AgentError, AgentOutput, Callbacks, Chunk, ChunkKind, ErrorInfo,
    RunExecutor, RunState, StepProgress, Suspension,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// The parts of a durable agent an engine executes runs with.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub agent: Agent,
    pub channel: RunChannel,
    pub store: Arc<dyn RunStore>,
    /// How long a finished run's log stays for late observers (zero keeps it until its TTL).
    pub cleanup_timeout: Duration,
}

/// How driving a run in this process ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum DriveOutcome {
    /// The terminal event is written.
    Finished(Result<AgentOutput, AgentError>),
    /// The state is stored and `suspended` events are written.
    Suspended(Vec<Suspension>),
    /// The run's channel failed for good: nothing more could be written.
    Lost(DurableError),
}

impl RunContext {
    /// An executor for `run` writing to this context's channel.
    pub fn executor(&self, run: EngineRun) -> RunExecutor<EventSink> {
        let sink = EventSink::new(self.channel.clone(), &run.state.run_id);
        self.agent
            .executor(run.state, run.abort, run.callbacks, sink)
    }

    /// Writes the run's `start` event (its log exists from then on) and returns the state.
    /// `callbacks` see that chunk as they would on a plain agent (`on_chunk`).
    pub async fn announce(
        &self,
        state: RunState,
        callbacks: Callbacks,
    ) -> Result<RunState, DurableError> {
        let run = EngineRun {
            state,
            callbacks,
            abort: AbortSignal::new(),
        };
        let mut executor = self.executor(run);
        if executor.begin().await.is_err() {
            return Err(lost(executor));
        }
        Ok(executor.into_state())
    }

    /// Takes steps until the run finishes or pauses.
    pub async fn drive(&self, executor: RunExecutor<EventSink>) -> DriveOutcome {
        let span = executor.run_span();
        let _active = super::metrics::ActiveRun::start();
        self.drive_steps(executor).instrument(span).await
    }

    async fn drive_steps(&self, mut executor: RunExecutor<EventSink>) -> DriveOutcome {
        loop {
            match executor.step().await {
                Ok(StepProgress::Continue) => continue,
                Ok(StepProgress::Done(outcome)) => {
                    self.finished(&executor.state().run_id).await;
                    return DriveOutcome::Finished(outcome);
                }
                Ok(StepProgress::Suspended(suspensions)) => {
                    return self.suspend(executor, suspensions).await
                }
                Ok(_) => continue,
                Err(_) => return DriveOutcome::Lost(lost(executor)),
            }
        }
    }

    /// An executor for `run` whose events carry `generation` and whose every write is
    /// first allowed by `fence` (engines that move runs between executors).
    pub fn fenced_executor(
        &self,
        run: EngineRun,
        generation: u64,
        fence: Arc<dyn WriteFence>,
    ) -> RunExecutor<EventSink> {
        let sink =
            EventSink::new(self.channel.clone(), &run.state.run_id).fenced(generation, fence);
        self.agent
            .executor(run.state, run.abort, run.callbacks, sink)
    }

    /// Stores a paused run, then tells observers: once they see the pause announced (the
    /// held `tool-call-approval` / `tool-call-suspended` chunks, then `suspended`), a resume
    /// must find the state.
    pub async fn suspend(
        &self,
        mut executor: RunExecutor<EventSink>,
        suspensions: Vec<Suspension>,
    ) -> DriveOutcome {
        let run_id = executor.state().run_id.clone();
        let record = RunRecord {
            state: executor.state().clone(),
            status: RunStatus::Suspended,
            suspensions: suspensions.clone(),
        };
        if let Err(error) = self.store.save(&record).await {
            tracing::error!(%run_id, %error, "cannot store a suspended run; failing it");
            let info = ErrorInfo::new(
                "RunStoreError",
                format!("the paused run could not be stored: {error}"),
            );
            let outcome = executor.fail(AgentError::Remote(info)).await;
            self.finished(&run_id).await;
            return match outcome {
                Ok(StepProgress::Done(outcome)) => DriveOutcome::Finished(outcome),
                _ => DriveOutcome::Lost(lost(executor)),
            };
        }
        // Only now may readers see the pause announced (see `EventSink`).
        if executor.sink_mut().release().await.is_err() {
            return DriveOutcome::Lost(lost(executor));
        }
        let generation = executor.sink_mut().generation();
        for suspension in &suspensions {
            let written = write(&self.channel, &run_id, || {
                let event = suspended_event(&run_id, suspension)?;
                Ok(match generation {
                    Some(generation) => event.with_generation(generation),
                    None => event,
                })
            })
            .await;
            if let Err(error) = written {
                return DriveOutcome::Lost(error);
            }
        }
        DriveOutcome::Suspended(suspensions)
    }

    /// Ends a paused run that nobody is executing: one `finish` with reason `abort`.
    pub async fn finish_paused_as_aborted(&self, record: RunRecord) -> Result<(), DurableError> {
        let run_id = record.state.run_id.clone();
        let run = EngineRun {
            state: record.state,
            callbacks: Callbacks::default(),
            abort: AbortSignal::new(),
        };
        let mut executor = self.executor(run);
        if executor.finish_aborted().await.is_err() {
            return Err(lost(executor));
        }
        self.finished(&run_id).await;
        Ok(())
    }

    /// Ends a run whose `start` is logged but that no engine took: one `error` event.
    pub async fn fail_unstarted(&self, run_id: &str, error: &DurableError) {
        let info = ErrorInfo::new(
            "EngineError",
            format!("the run could not be started: {error}"),
        );
        let chunk = Chunk::agent(run_id, ChunkKind::Error(ErrorPayload { error: info }));
        if let Err(error) = write(&self.channel, run_id, || chunk_event(&chunk)).await {
            tracing::error!(%run_id, %error, "cannot end a run that failed to start");
        }
        self.finished(run_id).await;
    }

    /// After the terminal event: forget the run's state and, after the cleanup timeout, its log.
    pub async fn finished(&self, run_id: &str) {
        if let Err(error) = self.store.delete(run_id).await {
            tracing::warn!(%run_id, %error, "cannot delete a finished run's state");
        }
        if self.cleanup_timeout.is_zero() {
            return;
        }
        let (channel, run_id, delay) = (
            self.channel.clone(),
            run_id.to_owned(),
            self.cleanup_timeout,
        );
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Err(error) = channel.clear(&run_id).await {
                tracing::warn!(%run_id, %error, "cannot clear a finished run's log");
            }
        });
    }

    /// Subscribes to the run's control topic now, and returns a future that aborts `abort`
    /// when an abort request arrives (then waits forever: race it against the run).
    pub async fn abort_listener(
        &self,
        run_id: &str,
        abort: AbortSignal,
    ) -> Result<impl Future<Output = ()> + Send + 'static, DurableError> {
        let mut control = self
            .channel
            .transport()
            .subscribe(&agent_control_topic(run_id))
            .await?;
        Ok(async move {
            while let Some(delivery) = control.next().await {
                if delivery.event().is_some_and(|e| abort_request_received(e)) {
                    abort.abort();
                    break;
                }
            }
            std::future::pending::<()>().await;
        })
    }
}

/// Why an executor's sink closed.
fn lost(mut executor: RunExecutor<EventSink>) -> DurableError {
    executor
        .sink_mut()
        .take_failure()
        .unwrap_or_else(|| DurableError::RunState {
            run_id: executor.state().run_id.clone(),
            reason: "the run's channel closed".into(),
        })
}
