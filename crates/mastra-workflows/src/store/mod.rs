//! The workflow store: a run's state as of its last completed step, written after every
//! step, fenced by the ownership generation of whoever writes it.

mod memory;

pub use memory::InMemoryWorkflowStore;

use crate::WorkflowError;
use async_trait::async_trait;
use mastra_pubsub::{Event, Lease, LeaseProvider, PubSub, PublishOptions};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Whether a stored run is waiting for its next step or for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunPhase {
    /// A step is queued or executing: workers (or recovery) continue it.
    Active,
    /// It waits for an approval or resume data: nobody should continue it.
    Suspended,
    /// It ended; the record keeps its outcome.
    Finished,
}

/// A run as stored between two steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredRun {
    pub run_id: String,
    pub workflow_id: String,
    /// How many steps are complete: the next step to take.
    pub step: u64,
    /// The ownership generation of the executor that wrote this record (0: nobody yet).
    pub generation: u64,
    pub phase: RunPhase,
    /// Someone asked to cancel (abort) the run; the next step ends it.
    #[serde(default)]
    pub cancel_requested: bool,
    /// Written by an owner that kept the run's lease to take the next step itself: whoever
    /// claims the run next must assume that step was started, and fence that owner out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
    /// The engine's state of the run (a workflow's value, an agent's `RunState`, ...) as
    /// JSON text: stored and copied as one string, never as a tree of values.
    pub data: String,
}

/// A run's ownership lease, as [`WorkflowStore::claim_and_load`] and
/// [`WorkflowStore::save_and_release`] take it: a store of the same backend as `leases`
/// may fold the lease operation into its own read or write.
#[derive(Debug, Clone, Copy)]
pub struct RunLease<'a> {
    pub leases: &'a dyn LeaseProvider,
    pub key: &'a str,
    pub owner: &'a str,
    pub ttl: Duration,
}

/// A message to queue once a save is accepted, as
/// [`WorkflowStore::save_release_and_enqueue`] takes it: `event` published on `topic` of
/// `pubsub` (the engine's queue transport). A store of the same backend as `pubsub` may
/// queue it in the same operation as the save.
#[derive(Debug)]
pub struct Enqueue<'a> {
    pub pubsub: &'a dyn PubSub,
    pub topic: &'a str,
    pub event: Event,
}

/// Stores runs by id. Writes are fenced: a writer whose generation is older than the
/// stored one is refused, so a superseded executor cannot overwrite its successor's work.
#[async_trait]
pub trait WorkflowStore: Send + Sync + fmt::Debug {
    /// Creates or replaces the run's record (a new run, or a resumed one).
    async fn put(&self, run: &StoredRun) -> Result<(), WorkflowError>;

    async fn load(&self, run_id: &str) -> Result<Option<StoredRun>, WorkflowError>;

    /// Replaces the record when it exists and its generation is not newer than
    /// `run.generation`; a pending cancel request is kept. `false` when refused.
    async fn save(&self, run: &StoredRun) -> Result<bool, WorkflowError>;

    /// [`save`](Self::save)s `run` and tells whether a cancel request is stored for it:
    /// `None` when the save was refused, else `Some(cancel requested)`. An owner that goes
    /// on with the run's next steps itself reads requests this way, even one whose
    /// announcement on the run's control topic it missed. By default a plain save that
    /// reports no request (requests still arrive on the control topic); the in-memory and
    /// Redis stores read the flag in the same operation.
    async fn save_reading_cancel(&self, run: &StoredRun) -> Result<Option<bool>, WorkflowError> {
        Ok(self.save(run).await?.then_some(false))
    }

    /// Raises the stored generation to `generation` (a new owner's claim), so that older
    /// owners' writes are refused from now on. `false` when the record is missing or
    /// already newer.
    async fn fence(&self, run_id: &str, generation: u64) -> Result<bool, WorkflowError>;

    /// Marks the run as to be cancelled; `false` when no such run is stored.
    async fn request_cancel(&self, run_id: &str) -> Result<bool, WorkflowError>;

    /// Removes the record unless a newer generation owns it; `false` when refused or missing.
    async fn remove(&self, run_id: &str, generation: u64) -> Result<bool, WorkflowError>;

    /// Every stored run's id.
    async fn list(&self) -> Result<Vec<String>, WorkflowError>;

    /// Claims `lease` and, once it is granted, loads `run_id` (read after the claim, so it
    /// sees every write of the previous owner). `None` when another owner holds the lease.
    /// By default two calls; a backend that also holds the leases does both at once.
    async fn claim_and_load(
        &self,
        lease: RunLease<'_>,
        run_id: &str,
    ) -> Result<Option<(Lease, Option<StoredRun>)>, WorkflowError> {
        claim_then_load(self, lease, run_id).await
    }

    /// [`save`](Self::save)s `run`, then gives `lease` back whatever the save's answer (a
    /// refused writer owns nothing any more; releasing a lease held by someone else does
    /// nothing). `Ok` means the lease is released (or not held); after an error it may
    /// still be held. By default two calls; a backend that also holds the leases does
    /// both at once, in this order.
    async fn save_and_release(
        &self,
        run: &StoredRun,
        lease: RunLease<'_>,
    ) -> Result<bool, WorkflowError> {
        save_then_release(self, run, lease).await
    }

    /// [`save_and_release`](Self::save_and_release), then queues `next` only if the save
    /// was accepted: `Ok(true)` means saved, released and queued; `Ok(false)` means the
    /// save was refused (a newer owner exists), released, and nothing queued. After an
    /// error the save may or may not have happened, and the message may or may not be
    /// queued (a redelivered step handles both). By default the two calls in that order
    /// (so the next step never sees the state before the save); a backend that also holds
    /// the leases and the queue does all of it at once.
    async fn save_release_and_enqueue(
        &self,
        run: &StoredRun,
        lease: RunLease<'_>,
        next: Enqueue<'_>,
    ) -> Result<bool, WorkflowError> {
        save_release_then_enqueue(self, run, lease, next).await
    }
}

/// [`WorkflowStore::save_release_and_enqueue`] as separate calls: the save and release,
/// then the publish if the save was accepted (the default, and what a backend falls back
/// to for a transport it does not hold).
pub async fn save_release_then_enqueue<S: WorkflowStore + ?Sized>(
    store: &S,
    run: &StoredRun,
    lease: RunLease<'_>,
    next: Enqueue<'_>,
) -> Result<bool, WorkflowError> {
    if !store.save_and_release(run, lease).await? {
        return Ok(false);
    }
    let options = PublishOptions::default();
    next.pubsub.publish(next.topic, next.event, options).await?;
    Ok(true)
}

/// [`WorkflowStore::claim_and_load`] as two calls: the lease, then the load (the default,
/// and what a backend falls back to for leases it does not hold).
pub async fn claim_then_load<S: WorkflowStore + ?Sized>(
    store: &S,
    lease: RunLease<'_>,
    run_id: &str,
) -> Result<Option<(Lease, Option<StoredRun>)>, WorkflowError> {
    let RunLease {
        leases,
        key,
        owner,
        ttl,
    } = lease;
    let Some(granted) = leases.acquire(key, owner, ttl).await? else {
        return Ok(None);
    };
    Ok(Some((granted, store.load(run_id).await?)))
}

/// [`WorkflowStore::save_and_release`] as two calls: the save, then the release (the
/// default, and what a backend falls back to for leases it does not hold).
pub async fn save_then_release<S: WorkflowStore + ?Sized>(
    store: &S,
    run: &StoredRun,
    lease: RunLease<'_>,
) -> Result<bool, WorkflowError> {
    let saved = store.save(run).await?;
    if let Err(error) = lease.leases.release(lease.key, lease.owner).await {
        // It expires by itself; the next owner waits for it at worst.
        tracing::warn!(key = %lease.key, %error, "cannot release the run lease");
    }
    Ok(saved)
}
