//! `RedisWorkflowStore` with the run leases of the same Redis: claiming a run and loading
//! it, and saving a run and releasing it, are each one script (one round trip instead of
//! two on the evented engine's path between two steps).

use fred::types::Value as RedisValue;
use mastra_pubsub::{Lease, LeaseProvider};
use mastra_workflows::{RunLease, StoredRun, WorkflowError};

use crate::leases::{millis, GENERATION_TTL};
use crate::workflow_store::decode_record;
use crate::{RedisLeases, RedisWorkflowStore};

impl RedisWorkflowStore {
    /// `leases` as [`RedisLeases`] when they live in this store's Redis (same URL, so
    /// same server and database): only then may one script touch both.
    pub(crate) fn colocated<'a>(&self, leases: &'a dyn LeaseProvider) -> Option<&'a RedisLeases> {
        let redis = leases.as_any()?.downcast_ref::<RedisLeases>()?;
        self.shares_redis_with(redis.url()).then_some(redis)
    }

    /// Whether a backend at `url` talks to this store's Redis (same URL, so same server
    /// and database).
    pub(crate) fn shares_redis_with(&self, url: &str) -> bool {
        url == self.connection().config().url
    }

    /// `claim_and_load` in one script (`WORKFLOW_CLAIM_LOAD`).
    pub(crate) async fn claim_and_load_with(
        &self,
        leases: &RedisLeases,
        lease: RunLease<'_>,
        run_id: &str,
    ) -> Result<Option<(Lease, Option<StoredRun>)>, WorkflowError> {
        let run_key = self.run_key(run_id);
        let keys = vec![
            leases.lease_key(lease.key),
            leases.generation_key(lease.key),
            run_key.clone(),
        ];
        let args = vec![
            lease.owner.to_owned(),
            millis(lease.ttl),
            millis(GENERATION_TTL),
        ];
        let (reply, _) = self
            .run_script(|s| &s.workflow_claim_load, keys, args)
            .await?;
        let unexpected = |reply: &RedisValue| {
            WorkflowError::Store(format!(
                "unexpected reply from the claim-and-load script: {reply:?}"
            ))
        };
        let parts = match reply {
            RedisValue::Null => return Ok(None),
            RedisValue::Array(parts) if parts.len() == 4 => parts,
            other => return Err(unexpected(&other)),
        };
        let generation = parts[0].as_u64().ok_or_else(|| unexpected(&parts[0]))?;
        let fields: Vec<Option<String>> = parts[1..].iter().map(RedisValue::as_string).collect();
        let record = decode_record(run_id, &run_key, &fields)?;
        let granted = Lease::new(lease.key, lease.owner, generation, lease.ttl);
        Ok(Some((granted, record)))
    }

    /// `save_and_release` in one script (`WORKFLOW_SAVE_RELEASE`).
    pub(crate) async fn save_and_release_with(
        &self,
        leases: &RedisLeases,
        run: &StoredRun,
        lease: RunLease<'_>,
    ) -> Result<bool, WorkflowError> {
        let (keys, args) = self.save_release_parts(leases, run, &lease)?;
        self.script(|s| &s.workflow_save_release, keys, args)
            .await
            .map(|(saved, _)| saved)
    }

    /// The keys (the run's hash, the set of run ids, the lease) and arguments (the
    /// record's, then the owner) that the save-and-release scripts start with.
    pub(crate) fn save_release_parts(
        &self,
        leases: &RedisLeases,
        run: &StoredRun,
        lease: &RunLease<'_>,
    ) -> Result<(Vec<String>, Vec<String>), WorkflowError> {
        let keys = vec![
            self.run_key(&run.run_id),
            self.index_key(),
            leases.lease_key(lease.key),
        ];
        let mut args = Self::write_args(run)?;
        args.push(lease.owner.to_owned());
        Ok((keys, args))
    }
}
