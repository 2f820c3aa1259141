//! One agent step taken by a worker: claim the run, load its last checkpoint, take the
//! step with a fenced executor, store the next checkpoint, queue the next step.

use super::control::Listener;
use super::{lock, Checkpoint, EventedEngine};
use crate::claim::Claim;
use crate::store::{RunPhase, StoredRun};
use crate::task::{Task, AGENT_WORKFLOW_PREFIX};
use crate::worker::TaskHandler;
use crate::WorkflowError;
use async_trait::async_trait;
use mastra_core::{AbortSignal, StepProgress};
use mastra_durable::engine::metrics::ActiveRun;
use mastra_durable::engine::{DriveOutcome, EngineRun, RunContext};
use mastra_pubsub::{Event, EventType};
use serde_json::json;
use std::sync::Arc;
use tracing::Instrument;

#[async_trait]
impl TaskHandler for EventedEngine {
    fn accepts(&self, workflow_id: &str) -> bool {
        workflow_id.starts_with(AGENT_WORKFLOW_PREFIX)
    }

    async fn handle(&self, task: Task, attempt: u32, owner: &str) -> Result<(), WorkflowError> {
        let agent_id = &task.workflow_id[AGENT_WORKFLOW_PREFIX.len()..];
        let ctx = self
            .context(agent_id)
            .ok_or_else(|| WorkflowError::UnknownWorkflow(task.workflow_id.clone()))?;
        let run_id = task.run_id.clone();
        let abort = lock(&self.inner.local)
            .get(&run_id)
            .map(|(_, abort)| abort.clone())
            .unwrap_or_default();
        // Listen before loading the state, so that no abort request slips in between
        // (the request is stored before it is published). Consecutive steps of a run
        // mostly find the previous step's subscription kept, so this costs no round trip.
        let listener = ctx.abort_listener(&run_id, abort.clone()).await;
        // The previous step's listener, if kept, is not needed any more.
        self.drop_kept_listener(&run_id);
        let mut listener: Listener = Box::pin(listener?);
        // The claim and the state are asked for together (one round trip where the store
        // also holds the leases).
        let leases = self.inner.leases.clone();
        let (claim, record) = Claim::acquire_loading(
            &*self.inner.store,
            leases,
            &run_id,
            owner,
            self.inner.lease_ttl,
        )
        .await?;
        let result = tokio::select! {
            result = self.step_claimed(&ctx, &task, attempt, &claim, record, abort) => result,
            () = &mut listener => Ok(Taken::Ended),
        };
        lock(&self.inner.executing).remove(&run_id);
        if !claim.is_lost() {
            claim.release().await;
        }
        if let Ok(Taken::Queued) = result {
            self.keep_listener(&run_id, listener);
        }
        result.map(drop)
    }
}

impl EventedEngine {
    async fn step_claimed(
        &self,
        ctx: &RunContext,
        task: &Task,
        attempt: u32,
        claim: &Arc<Claim>,
        record: Option<StoredRun>,
        abort: AbortSignal,
    ) -> Result<Taken, WorkflowError> {
        let store = &self.inner.store;
        let run_id = &task.run_id;
        let Some(record) = record else {
            return Ok(Taken::Ended); // finished meanwhile: a duplicate message
        };
        // A message whose step is done is a duplicate, unless it was redelivered: then its
        // owner may have died between storing the step and queueing the next one, so the
        // next one is taken here (under the lease; its own message, if any, is dropped).
        let redelivered = attempt > 1 && record.step > task.step;
        if record.phase != RunPhase::Active || (record.step != task.step && !redelivered) {
            return Ok(Taken::Ended);
        }
        let step = record.step;
        let mut record = record;
        let data = std::mem::take(&mut record.data);
        let checkpoint = self.inner.checkpoints.decode(run_id, &data)?;
        drop(data);
        if claim.generation > record.generation + 1 {
            // Someone claimed the run since its last checkpoint and may have started this
            // step: fence them out, then tell observers that their output is void.
            if !store.fence(run_id, claim.generation).await? {
                return Err(superseded(run_id));
            }
            announce_claim(ctx, run_id, claim.generation, &checkpoint, step).await?;
        }
        if record.cancel_requested {
            abort.abort();
        }
        lock(&self.inner.executing).insert(run_id.clone(), abort.clone());
        let callbacks = lock(&self.inner.local)
            .get(run_id)
            .map(|(callbacks, _)| callbacks.clone())
            .unwrap_or_default();
        let run = EngineRun {
            state: checkpoint.state,
            callbacks,
            abort,
        };
        let mut executor = ctx.fenced_executor(run, claim.generation, claim.clone());
        let _active = ActiveRun::start();
        let span = executor.run_span();
        let progress = tokio::select! {
            progress = executor.step().instrument(span.clone()) => progress,
            // Ownership lost mid-step: abandon it, whatever it was doing.
            () = claim.clone().heartbeat() => return Err(superseded(run_id)),
        };
        let Ok(progress) = progress else {
            if claim.is_lost() {
                return Err(superseded(run_id));
            }
            let error = executor.sink_mut().take_failure();
            return Err(match error {
                Some(error) => error.into(),
                None => WorkflowError::Store("the run's channel closed".into()),
            });
        };
        let log_len = match executor.sink_mut().last_index() {
            Some(index) => Some(index + 1),
            None => checkpoint.log_len,
        };
        let mut next = StoredRun {
            step: step + 1,
            generation: claim.generation,
            cancel_requested: false,
            ..record
        };
        match progress {
            StepProgress::Continue => {
                let state = executor.into_state();
                let checkpoint = Checkpoint { state, log_len };
                next.data = serde_json::to_string(&checkpoint)?;
                // Kept before the next step can be queued, so that it finds it here (a
                // refused save leaves an entry whose text no stored record holds: unused).
                self.inner
                    .checkpoints
                    .keep(run_id, next.data.clone(), checkpoint);
                let task = Task::new(next.workflow_id.clone(), run_id.clone(), next.step);
                // Free the run with its checkpoint and queue its next step only if the save
                // is accepted, so that step finds the run saved and free (one round trip
                // where the store also holds the leases and the queue).
                if !claim
                    .save_releasing_enqueueing(&**store, &next, self.next_step(&task)?)
                    .await?
                {
                    return Err(superseded(run_id));
                }
                return Ok(Taken::Queued);
            }
            StepProgress::Suspended(suspensions) => {
                if !claim.verify().await {
                    return Err(superseded(run_id));
                }
                // Stored as paused before the pause is announced: an answer may come (and
                // queue the run again) as soon as observers see it.
                let state = executor.state().clone();
                next.phase = RunPhase::Suspended;
                next.data = serde_json::to_string(&Checkpoint { state, log_len })?;
                if !store.save(&next).await? {
                    return Err(superseded(run_id));
                }
                lock(&self.inner.local).remove(run_id);
                match ctx.suspend(executor, suspensions).instrument(span).await {
                    DriveOutcome::Suspended(_) => {}
                    DriveOutcome::Lost(error) => return Err(error.into()),
                    _ => self.forget(run_id, claim.generation).await?,
                }
            }
            _ => {
                // The terminal event is written (by the owner: the fence checked it).
                ctx.finished(run_id).await;
                self.forget(run_id, claim.generation).await?;
            }
        }
        Ok(Taken::Ended)
    }

    async fn forget(&self, run_id: &str, generation: u64) -> Result<(), WorkflowError> {
        lock(&self.inner.local).remove(run_id);
        self.inner.checkpoints.forget(run_id);
        self.inner.store.remove(run_id, generation).await?;
        Ok(())
    }
}

/// What a worker's step left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Taken {
    /// The run's next step is queued.
    Queued,
    /// Nothing more to take for now (the run paused or ended, or the message was stale).
    Ended,
}

fn superseded(run_id: &str) -> WorkflowError {
    WorkflowError::Superseded {
        run_id: run_id.to_owned(),
    }
}

/// The `ownership-claimed` envelope: from `voidFrom` on, the run's events up to this one
/// belong to an interrupted attempt at step `step` and are void.
async fn announce_claim(
    ctx: &RunContext,
    run_id: &str,
    generation: u64,
    checkpoint: &Checkpoint,
    step: u64,
) -> Result<(), WorkflowError> {
    let data = json!({ "generation": generation, "voidFrom": checkpoint.log_len, "step": step });
    let event = Event::new(EventType::OwnershipClaimed, run_id, data).with_generation(generation);
    ctx.channel.publish(run_id, event).await?;
    tracing::info!(%run_id, generation, step, "run claimed by a new owner; re-running its step");
    Ok(())
}
