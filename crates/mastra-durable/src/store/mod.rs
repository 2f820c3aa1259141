//! The run-state store: where a paused run's state waits for its approval or resume data,
//! so that `resume` works after the task that started the run is gone (or, with a shared
//! store, in another process).

mod memory;

pub use memory::InMemoryRunStore;

use crate::DurableError;
use async_trait::async_trait;
use mastra_core::{RunState, Suspension};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// An executor is taking its steps.
    Running,
    /// It waits for approvals or resume data.
    Suspended,
    /// It emitted its terminal event.
    Finished,
}

/// A run's state as stored between steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub state: RunState,
    pub status: RunStatus,
    /// What the run waits on, when suspended.
    #[serde(default)]
    pub suspensions: Vec<Suspension>,
}

/// Stores run states by run id.
#[async_trait]
pub trait RunStore: Send + Sync + fmt::Debug {
    /// Creates or replaces the record of `record.state.run_id`.
    async fn save(&self, record: &RunRecord) -> Result<(), DurableError>;

    async fn load(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError>;

    /// Removes and returns the record, atomically: of two callers racing to continue or
    /// abort a paused run, exactly one gets it.
    async fn take(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError>;

    async fn delete(&self, run_id: &str) -> Result<(), DurableError>;

    /// The ids of every stored run.
    async fn list(&self) -> Result<Vec<String>, DurableError>;
}
