//! The workflow store: a run's state as of its last completed step, written after every
//! step, fenced by the ownership generation of whoever writes it.

mod memory;

pub use memory::InMemoryWorkflowStore;

use crate::WorkflowError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// The engine's state of the run (a workflow's value, an agent's `RunState`, ...) as
    /// JSON text: stored and copied as one string, never as a tree of values.
    pub data: String,
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
}
