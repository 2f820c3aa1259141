//! The local engine: a run's steps taken in a tokio task of this process.

use super::{DriveOutcome, EngineRun, ExecutionEngine, RunContext};
use crate::store::RunStatus;
use crate::DurableError;
use async_trait::async_trait;
use mastra_core::AbortSignal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Runs every step in a tokio task of this process. Aborts reach it through the run's abort
/// signal, or from anywhere through the run's control topic.
#[derive(Debug, Default, Clone)]
pub struct LocalEngine {
    /// The executions of this engine by run id, each tagged with the spawn that owns it.
    running: Arc<Mutex<HashMap<String, (u64, AbortSignal)>>>,
    spawns: Arc<AtomicU64>,
}

impl LocalEngine {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (u64, AbortSignal)>) -> T) -> T {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut running)
    }

    async fn spawn(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError> {
        let run_id = run.state.run_id.clone();
        // Listen before the first step, so that an abort sent right after `stream()`
        // returns is not missed.
        let listener = ctx.abort_listener(&run_id, run.abort.clone()).await?;
        let spawn = self.spawns.fetch_add(1, Ordering::Relaxed);
        self.with(|r| r.insert(run_id.clone(), (spawn, run.abort.clone())));
        let (ctx, engine, abort) = (ctx.clone(), self.clone(), run.abort.clone());
        let executor = ctx.executor(run);
        tokio::spawn(async move {
            // Boxed: the steps' state machine is large, and the task is moved several times
            // while it is spawned; this way only a pointer travels.
            let paused = tokio::select! {
                outcome = Box::pin(ctx.drive(executor)) => {
                    tracing::debug!(%run_id, ?outcome, "run left the local engine");
                    matches!(outcome, DriveOutcome::Suspended(_))
                }
                () = listener => false,
            };
            // A run that paused may already be resumed by a newer spawn: leave its entry.
            let owned = engine.with(|r| {
                let owned = r.get(&run_id).is_some_and(|(owner, _)| *owner == spawn);
                if owned {
                    r.remove(&run_id);
                }
                owned
            });
            // An abort that reached this task while the run was pausing: the run is stored
            // now, so finish it (unless someone else took it first).
            if paused && owned && abort.is_aborted() {
                match ctx.store.take(&run_id).await {
                    Ok(Some(record)) => {
                        if let Err(error) = ctx.finish_paused_as_aborted(record).await {
                            tracing::error!(%run_id, %error, "cannot finish an aborted paused run");
                        }
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::error!(%run_id, %error, "cannot load an aborted paused run")
                    }
                }
            }
        });
        Ok(())
    }
}

#[async_trait]
impl ExecutionEngine for LocalEngine {
    fn name(&self) -> &str {
        "local"
    }

    async fn start(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError> {
        self.spawn(ctx, run).await
    }

    async fn resume(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError> {
        self.spawn(ctx, run).await
    }

    async fn abort(&self, run_id: &str) -> bool {
        match self.with(|r| r.get(run_id).map(|(_, signal)| signal.clone())) {
            Some(signal) => {
                signal.abort();
                true
            }
            None => false,
        }
    }

    fn status(&self, run_id: &str) -> Option<RunStatus> {
        self.with(|r| r.contains_key(run_id))
            .then_some(RunStatus::Running)
    }
}
