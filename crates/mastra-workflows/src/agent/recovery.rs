//! Recovery: finding runs whose steps nobody is taking, and queueing their next step again.

use super::EventedEngine;
use crate::store::RunPhase;
use crate::task::Task;
use crate::WorkflowError;
use std::time::Duration;

/// The lease that lets one instance at a time re-drive orphaned runs.
const RECOVERY_LEASE: &str = "workflow-recovery";

impl EventedEngine {
    /// The ids of the runs waiting for (or taking) their next step: started, not paused,
    /// not finished.
    pub async fn list_active_runs(&self) -> Result<Vec<String>, WorkflowError> {
        let store = &self.inner.store;
        let mut active = Vec::new();
        for run_id in store.list().await? {
            let record = store.load(&run_id).await?;
            if record.is_some_and(|r| r.phase == RunPhase::Active) {
                active.push(run_id);
            }
        }
        active.sort();
        Ok(active)
    }

    /// Queues the run's next step again (its message may have been lost with a crashed
    /// instance). Safe on a run that is going on: a worker takes a step only when it is the
    /// stored next one and it holds the run's lease, so a duplicate is dropped. `false`
    /// when the run is not active.
    pub async fn recover(&self, run_id: &str) -> Result<bool, WorkflowError> {
        let Some(record) = self.inner.store.load(run_id).await? else {
            return Ok(false);
        };
        if record.phase != RunPhase::Active {
            return Ok(false);
        }
        let task = Task::new(record.workflow_id, record.run_id, record.step);
        self.enqueue(&task).await?;
        tracing::info!(%run_id, step = task.step, "run re-queued for recovery");
        Ok(true)
    }

    /// Re-queues every active run, at most once per lease TTL across all instances sharing
    /// the leases (another instance recovering right now makes this a no-op). Returns the
    /// runs re-queued.
    pub async fn recover_active_runs(&self) -> Result<Vec<String>, WorkflowError> {
        let ttl = self.inner.lease_ttl.max(Duration::from_millis(10));
        let owner = &self.inner.instance;
        let leases = &self.inner.leases;
        if leases.acquire(RECOVERY_LEASE, owner, ttl).await?.is_none() {
            return Ok(Vec::new());
        }
        let mut recovered = Vec::new();
        for run_id in self.list_active_runs().await? {
            if self.recover(&run_id).await? {
                recovered.push(run_id);
            }
        }
        Ok(recovered)
    }
}
