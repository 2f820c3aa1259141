//! Fault injection: a store that freezes after a checkpoint, leases whose renewals stop.

use async_trait::async_trait;
use mastra_pubsub::{Lease, LeaseProvider, PubSubError};
use mastra_workflows::{InMemoryWorkflowStore, StoredRun, WorkflowError, WorkflowStore};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// A workflow store that hangs right after storing the checkpoint of step `freeze_at`
/// (for good unless thawed), as a process dying, or stopped, between storing a step and
/// going on would; it notes every save it was asked for.
#[derive(Debug)]
pub struct FreezingStore {
    pub inner: Arc<InMemoryWorkflowStore>,
    pub freeze_at: u64,
    pub frozen: Notify,
    pub thaw: Notify,
    pub saves: Mutex<Vec<Save>>,
}

/// One save a [`FreezingStore`] was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Save {
    pub step: u64,
    pub generation: u64,
    pub held: bool,
    pub accepted: bool,
}

impl FreezingStore {
    /// Freezes after the save of step `freeze_at` (`u64::MAX`: never).
    pub fn new(inner: Arc<InMemoryWorkflowStore>, freeze_at: u64) -> Arc<Self> {
        Arc::new(Self {
            inner,
            freeze_at,
            frozen: Notify::new(),
            thaw: Notify::new(),
            saves: Mutex::new(Vec::new()),
        })
    }

    pub fn saves(&self) -> Vec<Save> {
        self.saves.lock().unwrap().clone()
    }
}

#[async_trait]
impl WorkflowStore for FreezingStore {
    async fn put(&self, run: &StoredRun) -> Result<(), WorkflowError> {
        self.inner.put(run).await
    }
    async fn load(&self, run_id: &str) -> Result<Option<StoredRun>, WorkflowError> {
        self.inner.load(run_id).await
    }
    async fn save(&self, run: &StoredRun) -> Result<bool, WorkflowError> {
        let saved = self.inner.save(run).await?;
        self.saves.lock().unwrap().push(Save {
            step: run.step,
            generation: run.generation,
            held: run.held,
            accepted: saved,
        });
        if run.step == self.freeze_at {
            self.frozen.notify_one();
            self.thaw.notified().await;
        }
        Ok(saved)
    }
    async fn fence(&self, run_id: &str, generation: u64) -> Result<bool, WorkflowError> {
        self.inner.fence(run_id, generation).await
    }
    async fn request_cancel(&self, run_id: &str) -> Result<bool, WorkflowError> {
        self.inner.request_cancel(run_id).await
    }
    async fn remove(&self, run_id: &str, generation: u64) -> Result<bool, WorkflowError> {
        self.inner.remove(run_id, generation).await
    }
    async fn list(&self) -> Result<Vec<String>, WorkflowError> {
        self.inner.list().await
    }
}

/// Leases whose renewals by one owner hang while it is "stopped" (as SIGSTOP would), then
/// go through (and fail, once someone else took the lease).
#[derive(Debug)]
pub struct StoppableLeases {
    pub inner: Arc<dyn LeaseProvider>,
    pub stopped: Mutex<Option<String>>,
    pub continued: Notify,
}

impl StoppableLeases {
    /// Leases of `inner` whose renewals nobody has stopped yet.
    pub fn new(inner: Arc<dyn LeaseProvider>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            stopped: Mutex::new(None),
            continued: Notify::new(),
        })
    }

    pub fn stop(&self, owner: &str) {
        *self.stopped.lock().unwrap() = Some(owner.to_owned());
    }

    pub fn resume(&self) {
        self.stopped.lock().unwrap().take();
        self.continued.notify_waiters();
    }
}

#[async_trait]
impl LeaseProvider for StoppableLeases {
    async fn acquire(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, PubSubError> {
        self.inner.acquire(key, owner, ttl).await
    }
    async fn renew(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, PubSubError> {
        loop {
            let continued = self.continued.notified();
            if self.stopped.lock().unwrap().as_deref() != Some(owner) {
                break;
            }
            continued.await;
        }
        self.inner.renew(key, owner, ttl).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<bool, PubSubError> {
        self.inner.release(key, owner).await
    }
    async fn owner(&self, key: &str) -> Result<Option<String>, PubSubError> {
        self.inner.owner(key).await
    }
}
