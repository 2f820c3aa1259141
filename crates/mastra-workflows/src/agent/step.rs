//! Agent steps taken by a worker: claim the run, load its last checkpoint, take the step
//! with a fenced executor and store the next checkpoint; go on with the next steps while
//! the worker's turn lasts (saving each, the lease kept), then queue the next one.

use super::control::Listener;
use super::{lock, Checkpoint, EventedEngine};
use crate::claim::Claim;
use crate::store::{RunPhase, StoredRun};
use crate::task::{Task, AGENT_WORKFLOW_PREFIX};
use crate::worker::{StopSignal, TaskHandler};
use crate::WorkflowError;
use async_trait::async_trait;
use mastra_core::{AbortSignal, RunState, StepProgress};
use mastra_durable::engine::metrics::ActiveRun;
use mastra_durable::engine::{DriveOutcome, EngineRun, RunContext};
use mastra_pubsub::{Event, EventType};
use serde_json::json;
use std::sync::Arc;
use tokio::time::Instant;
use tracing::Instrument;

#[async_trait]
impl TaskHandler for EventedEngine {
    fn accepts(&self, workflow_id: &str) -> bool {
        workflow_id.starts_with(AGENT_WORKFLOW_PREFIX)
    }

    async fn handle(
        &self,
        task: Task,
        attempt: u32,
        owner: &str,
        stop: &StopSignal,
    ) -> Result<(), WorkflowError> {
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
        let turn = Turn {
            ends: Instant::now() + self.inner.continuation,
            stop,
        };
        let result = tokio::select! {
            result = self.take_steps(&ctx, &task, attempt, &claim, record, abort, turn) => result,
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

/// How long a worker may go on with the steps of the run it claimed.
struct Turn<'a> {
    ends: Instant,
    stop: &'a StopSignal,
}

impl Turn<'_> {
    /// Whether the next step is taken here rather than queued.
    fn goes_on(&self) -> bool {
        Instant::now() < self.ends && !self.stop.is_raised()
    }
}

impl EventedEngine {
    /// Takes the run's stored next step and, while the worker's turn lasts, the steps
    /// after it (each saved once complete, the lease kept); then queues the next one.
    #[allow(clippy::too_many_arguments)]
    async fn take_steps(
        &self,
        ctx: &RunContext,
        task: &Task,
        attempt: u32,
        claim: &Arc<Claim>,
        record: Option<StoredRun>,
        abort: AbortSignal,
        turn: Turn<'_>,
    ) -> Result<Taken, WorkflowError> {
        let store = &self.inner.store;
        let run_id = &task.run_id;
        let Some(record) = record else {
            return Ok(Taken::Ended); // finished meanwhile: a duplicate message
        };
        // A message whose step is done is a duplicate, unless it was redelivered: then its
        // owner may have died between storing the step and queueing the next one (or while
        // going on with later steps itself), so the stored next one is taken here (under
        // the lease; its own message, if any, is dropped).
        let redelivered = attempt > 1 && record.step > task.step;
        if record.phase != RunPhase::Active || (record.step != task.step && !redelivered) {
            return Ok(Taken::Ended);
        }
        let mut step = record.step;
        let mut record = record;
        let data = std::mem::take(&mut record.data);
        let checkpoint = self.inner.checkpoints.decode(run_id, &data)?;
        drop(data);
        // Someone claimed the run since its last checkpoint, or its writer kept the lease
        // to go on: either may have started this step. Fence them out, then tell
        // observers that their output is void.
        if claim.generation > record.generation + 1 || record.held {
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
        let mut log_len = checkpoint.log_len;
        let run = EngineRun {
            state: checkpoint.state,
            callbacks,
            abort: abort.clone(),
        };
        let mut executor = ctx.fenced_executor(run, claim.generation, claim.clone());
        // Renews the lease for as long as the steps go on; resolves once it is lost.
        let mut heartbeat = std::pin::pin!(claim.clone().heartbeat());
        loop {
            let _active = ActiveRun::start();
            let span = executor.run_span();
            let progress = tokio::select! {
                progress = executor.step().instrument(span.clone()) => progress,
                // Ownership lost mid-step: abandon it, whatever it was doing.
                () = &mut heartbeat => return Err(superseded(run_id)),
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
            if let Some(index) = executor.sink_mut().last_index() {
                log_len = Some(index + 1);
            }
            step += 1;
            let next = StoredRun {
                run_id: record.run_id.clone(),
                workflow_id: record.workflow_id.clone(),
                step,
                generation: claim.generation,
                phase: RunPhase::Active,
                cancel_requested: false,
                held: false,
                data: String::new(),
            };
            match progress {
                StepProgress::Continue if turn.goes_on() => {
                    let checkpoint = Checkpoint {
                        state: executor.state(),
                        log_len,
                    };
                    self.save_going_on(claim, next, &checkpoint, &abort).await?;
                }
                StepProgress::Continue => {
                    let checkpoint = Checkpoint {
                        state: executor.into_state(),
                        log_len,
                    };
                    let data = serde_json::to_string(&checkpoint)?;
                    // Kept before the next step can be queued, so that it finds it here (a
                    // refused save leaves an entry whose text no stored record holds: unused).
                    self.inner
                        .checkpoints
                        .keep(run_id, data.clone(), checkpoint);
                    let next = StoredRun { data, ..next };
                    let task = Task::new(next.workflow_id.clone(), run_id.clone(), next.step);
                    // Free the run with its checkpoint and queue its next step only if the
                    // save is accepted, so that step finds the run saved and free (one round
                    // trip where the store also holds the leases and the queue).
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
                    let checkpoint = Checkpoint {
                        state: executor.state(),
                        log_len,
                    };
                    let next = StoredRun {
                        phase: RunPhase::Suspended,
                        data: serde_json::to_string(&checkpoint)?,
                        ..next
                    };
                    if !store.save(&next).await? {
                        return Err(superseded(run_id));
                    }
                    lock(&self.inner.local).remove(run_id);
                    match ctx.suspend(executor, suspensions).instrument(span).await {
                        DriveOutcome::Suspended(_) => {}
                        DriveOutcome::Lost(error) => return Err(error.into()),
                        _ => self.forget(run_id, claim.generation).await?,
                    }
                    return Ok(Taken::Ended);
                }
                _ => {
                    // The terminal event is written (by the owner: the fence checked it).
                    ctx.finished(run_id).await;
                    self.forget(run_id, claim.generation).await?;
                    return Ok(Taken::Ended);
                }
            }
        }
    }

    /// Saves the step just taken with the lease kept (`held`), so that this worker takes
    /// the next step itself; raises `abort` when a cancel request is stored.
    async fn save_going_on(
        &self,
        claim: &Claim,
        next: StoredRun,
        checkpoint: &Checkpoint<&RunState>,
        abort: &AbortSignal,
    ) -> Result<(), WorkflowError> {
        let next = StoredRun {
            held: true,
            data: serde_json::to_string(checkpoint)?,
            ..next
        };
        let run_id = &next.run_id;
        match self.inner.store.save_reading_cancel(&next).await? {
            None => return Err(superseded(run_id)),
            // An abort requested meanwhile ends the run at its next step, even if its
            // announcement on the control topic was missed.
            Some(true) => abort.abort(),
            Some(false) => {}
        }
        // A claim not confirmed for half a TTL (this process was stopped, say during the
        // save) is confirmed before another step starts here.
        if claim.stale() && !claim.verify().await {
            return Err(match claim.is_lost() {
                true => superseded(run_id),
                // Cannot tell: the message goes back, its next taker fences.
                false => WorkflowError::Store("cannot confirm the run's lease".into()),
            });
        }
        Ok(())
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
