//! Run ownership for one step: a lease whose generation fences everything the step writes.

use crate::store::{Enqueue, RunLease, StoredRun, WorkflowStore};
use crate::WorkflowError;
use mastra_durable::engine::WriteFence;
use mastra_pubsub::LeaseProvider;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The lease key of a run.
pub(crate) fn lease_key(run_id: &str) -> String {
    format!("workflow-run:{run_id}")
}

/// One executor's ownership of one run, held while it takes a step. A renewal that fails
/// means a newer owner may exist: from then on the claim is lost and its fence refuses
/// every write.
#[derive(Debug)]
pub(crate) struct Claim {
    leases: Arc<dyn LeaseProvider>,
    key: String,
    owner: String,
    pub(crate) generation: u64,
    ttl: Duration,
    lost: AtomicBool,
    released: AtomicBool,
    verified_at: Mutex<Instant>,
}

impl Claim {
    /// Takes the run's lease for `owner`, waiting while another owner holds an unexpired
    /// one (a crashed owner's lease runs out after its TTL), and loads the run once the
    /// lease is granted: one operation where the store can combine both (one round trip
    /// on Redis).
    pub(crate) async fn acquire_loading(
        store: &dyn WorkflowStore,
        leases: Arc<dyn LeaseProvider>,
        run_id: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<(Arc<Self>, Option<StoredRun>), WorkflowError> {
        let key = lease_key(run_id);
        loop {
            let lease = RunLease {
                leases: &*leases,
                key: &key,
                owner,
                ttl,
            };
            if let Some((lease, record)) = store.claim_and_load(lease, run_id).await? {
                let claim = Self::held(leases, key, owner, lease.generation, ttl);
                return Ok((claim, record));
            }
            tokio::time::sleep(pause(ttl)).await;
        }
    }

    fn held(
        leases: Arc<dyn LeaseProvider>,
        key: String,
        owner: &str,
        generation: u64,
        ttl: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            leases,
            key,
            owner: owner.to_owned(),
            generation,
            ttl,
            lost: AtomicBool::new(false),
            released: AtomicBool::new(false),
            verified_at: Mutex::new(Instant::now()),
        })
    }

    /// Saves `run`, gives the lease back and queues `next` only if the save was accepted,
    /// in one operation where the store can combine them (one round trip on Redis);
    /// `false` when the save was refused (a newer owner exists) and nothing was queued.
    pub(crate) async fn save_releasing_enqueueing(
        &self,
        store: &dyn WorkflowStore,
        run: &StoredRun,
        next: Enqueue<'_>,
    ) -> Result<bool, WorkflowError> {
        let saved = store
            .save_release_and_enqueue(run, self.run_lease(), next)
            .await?;
        // Released (or not ours any more): a later `release` must not ask again.
        self.released.store(true, Ordering::SeqCst);
        Ok(saved)
    }

    fn run_lease(&self) -> RunLease<'_> {
        RunLease {
            leases: &*self.leases,
            key: &self.key,
            owner: &self.owner,
            ttl: self.ttl,
        }
    }

    pub(crate) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Renews the lease now; `false` (and lost for good) when this owner no longer holds it.
    pub(crate) async fn verify(&self) -> bool {
        if self.is_lost() {
            return false;
        }
        let started = Instant::now();
        match self.leases.renew(&self.key, &self.owner, self.ttl).await {
            Ok(true) => {
                *self.verified_at.lock().unwrap_or_else(|e| e.into_inner()) = started;
                true
            }
            Ok(false) => {
                tracing::warn!(key = %self.key, owner = %self.owner, "run ownership lost");
                self.lost.store(true, Ordering::SeqCst);
                false
            }
            // Cannot tell: refuse this write, keep trying on the next.
            Err(error) => {
                tracing::warn!(key = %self.key, %error, "cannot renew the run lease");
                false
            }
        }
    }

    /// Renews the lease every third of its TTL; returns once it is lost.
    pub(crate) async fn heartbeat(self: Arc<Self>) {
        let every = self.ttl / 3;
        loop {
            tokio::time::sleep(every).await;
            if !self.verify().await && self.is_lost() {
                return;
            }
        }
    }

    /// Gives the lease back (after the step's state is saved). Only the first call asks
    /// the provider: a step that released before queueing its successor must not pay a
    /// second round trip for it (and may not release whatever holds the lease by then).
    pub(crate) async fn release(&self) {
        if self.released.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Err(error) = self.leases.release(&self.key, &self.owner).await {
            tracing::warn!(key = %self.key, %error, "cannot release the run lease");
        }
    }

    /// Lost, or not confirmed for half a TTL.
    pub(crate) fn stale(&self) -> bool {
        if self.is_lost() {
            return true;
        }
        let verified_at = *self.verified_at.lock().unwrap_or_else(|e| e.into_inner());
        verified_at.elapsed() > self.ttl / 2
    }
}

#[async_trait::async_trait]
impl WriteFence for Claim {
    /// Terminal events, and any event once the last renewal is half a TTL old (a paused
    /// process waking up), are only written after the lease is confirmed.
    async fn may_write(&self, terminal: bool) -> bool {
        if self.is_lost() {
            return false;
        }
        if terminal || self.stale() {
            return self.verify().await;
        }
        true
    }
}

/// How long to wait before asking again for a lease held by someone else.
fn pause(ttl: Duration) -> Duration {
    (ttl / 4).clamp(Duration::from_millis(5), Duration::from_millis(100))
}
