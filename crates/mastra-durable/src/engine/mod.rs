//! The `ExecutionEngine` seam: where and how a durable run's steps are taken.
//!
//! A durable agent hands an engine the run's serializable state (its `start` event already
//! logged); the engine takes the steps and writes every chunk to the run's channel through
//! the [`RunContext`]. The [`LocalEngine`] runs them in a tokio task of this process; an
//! evented engine persists the state and queues one event per step so any worker continues;
//! an Inngest engine maps steps to Inngest steps. The durable agent does not change.

mod context;
mod local;
pub mod metrics;

pub use context::{DriveOutcome, RunContext};
pub use local::LocalEngine;
pub use metrics::DurableMetrics;

use crate::store::RunStatus;
use crate::DurableError;
use async_trait::async_trait;
use mastra_core::{AbortSignal, Callbacks, RunState};
use std::fmt;

/// A run handed to an engine: its state plus the live parts that only make sense in this
/// process (an engine that executes elsewhere keeps only the state).
#[derive(Debug)]
pub struct EngineRun {
    pub state: RunState,
    pub callbacks: Callbacks,
    pub abort: AbortSignal,
}

/// Asked by a fenced executor's sink before every write (see
/// [`RunContext::fenced_executor`]): `false` once the executor no longer owns its run, after
/// which it writes nothing. `terminal` is set for the run's last event, which an engine
/// should only allow after checking ownership with its lease provider.
#[async_trait]
pub trait WriteFence: Send + Sync + fmt::Debug {
    async fn may_write(&self, terminal: bool) -> bool;
}

/// Executes durable runs.
#[async_trait]
pub trait ExecutionEngine: Send + Sync + fmt::Debug {
    /// A short name for logs (`local`, `evented`, `inngest`).
    fn name(&self) -> &str;

    /// Starts taking the steps of a new run. Returns once the run is underway (or queued).
    async fn start(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError>;

    /// Continues a paused run whose answer (approval, resume data) is recorded in the state.
    async fn resume(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError>;

    /// Stops a run if this engine is executing it here; `false` otherwise. Runs executing
    /// elsewhere are reached through the run's control topic.
    async fn abort(&self, run_id: &str) -> bool;

    /// Whether this engine is executing the run right now, as far as it knows.
    fn status(&self, run_id: &str) -> Option<RunStatus>;
}
