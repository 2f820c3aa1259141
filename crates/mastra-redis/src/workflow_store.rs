//! `RedisWorkflowStore`: the evented engine's [`WorkflowStore`] in Redis, with every fenced
//! write a compare-and-set on the generation inside one Lua script.

use async_trait::async_trait;
use fred::error::Error as FredError;
use fred::interfaces::ClientLike;
use fred::types::{CustomCommand, Value as RedisValue};
use mastra_pubsub::Lease;
use mastra_workflows::store::{claim_then_load, save_release_then_enqueue, save_then_release};
use mastra_workflows::{Enqueue, RunLease, StoredRun, WorkflowError, WorkflowStore};

use crate::{RedisConfig, RedisConnection, RedisError};

/// A [`WorkflowStore`] in Redis, so that every instance of a deployment continues (and
/// recovers, and fences) the same runs.
///
/// Layout, under the connection's key prefix (`mastra:cache:` by default):
///
/// | key | type | content |
/// |---|---|---|
/// | `<prefix>workflow:run:<runId>` | hash | `record`: the [`StoredRun`] as JSON; `generation`: the owner's generation (decimal); `cancel`: `1` once a cancel was requested, else `0` |
/// | `<prefix>workflow:runs` | set | the ids of every stored run |
///
/// `generation` and `cancel` are the authority for those two fields ([`fence`] and
/// [`request_cancel`] change only them); [`load`] overlays them on the JSON record.
/// `put`, `save` (also `save_reading_cancel`), `fence`, `request_cancel` and `remove` are
/// each one Lua script, so one round trip and atomic: a writer whose generation is older
/// than the stored one is refused inside Redis, and a superseded executor can never
/// overwrite its successor's state, whatever the interleaving across processes.
/// Generations are compared exactly (as decimal strings), not as Lua's floating-point
/// numbers.
///
/// [`list`] reads the set (`SMEMBERS`) rather than `SCAN`ning the keyspace: its cost is the
/// number of runs, not the number of keys in the database (run logs included), and the
/// scripts keep the set and the hashes in step. Records never expire: a run's state must
/// outlive any outage; the engine removes finished runs.
///
/// The keys share the run logs' prefix, so `ServerCache::clear` on a `RedisServerCache`
/// of the same prefix deletes them too (as it deletes leases); give the store its own
/// prefix ([`with_prefix`](Self::with_prefix)) to keep them apart. Like the rest of this
/// crate, the scripts touch two keys without a hash tag: standalone Redis (or Sentinel)
/// only, not Redis Cluster.
///
/// ```no_run
/// use std::sync::Arc;
/// use mastra_redis::{RedisConfig, RedisWorkflowStore};
/// use mastra_workflows::{EventedEngine, WorkflowStore};
/// # async fn engine(pubsub: Arc<dyn mastra_pubsub::PubSub>) -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisWorkflowStore::connect(RedisConfig::new("redis://127.0.0.1:6379")).await?;
/// let engine = EventedEngine::builder(pubsub).store(Arc::new(store)).build();
/// # Ok(())
/// # }
/// ```
///
/// [`fence`]: WorkflowStore::fence
/// [`request_cancel`]: WorkflowStore::request_cancel
/// [`load`]: WorkflowStore::load
/// [`list`]: WorkflowStore::list
#[derive(Debug, Clone)]
pub struct RedisWorkflowStore {
    connection: RedisConnection,
    prefix: String,
}

impl RedisWorkflowStore {
    /// A store over `connection`, under its key prefix.
    pub fn new(connection: RedisConnection) -> Self {
        let prefix = format!("{}workflow:", connection.config().key_prefix);
        Self { connection, prefix }
    }

    /// A store over `connection` whose keys start with `prefix` (instead of
    /// `<key prefix>workflow:`), e.g. to keep them apart from a cache that may be cleared.
    pub fn with_prefix(connection: RedisConnection, prefix: impl Into<String>) -> Self {
        Self {
            connection,
            prefix: prefix.into(),
        }
    }

    /// Connects to the Redis of `config` (a pool of its own) and stores runs there.
    pub async fn connect(config: RedisConfig) -> Result<Self, RedisError> {
        Ok(Self::new(RedisConnection::connect(config).await?))
    }

    /// Connects to the Redis at `url` with the default settings otherwise (e.g. from
    /// `mastra serve --redis-url`).
    pub async fn from_url(url: impl Into<String>) -> Result<Self, RedisError> {
        Self::connect(RedisConfig::new(url)).await
    }

    pub(crate) fn connection(&self) -> &RedisConnection {
        &self.connection
    }

    /// The prefix of every key of this store.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key (a hash) of run `run_id`.
    pub fn run_key(&self, run_id: &str) -> String {
        format!("{}run:{run_id}", self.prefix)
    }

    /// The Redis key of the set of run ids.
    pub fn index_key(&self) -> String {
        format!("{}runs", self.prefix)
    }

    /// Runs one of the store's scripts (retried like cache commands: every script is
    /// safe to repeat, see [`remove`](WorkflowStore::remove)) and reads its 0/1 answer.
    pub(crate) async fn script(
        &self,
        pick: fn(&crate::scripts::Scripts) -> &crate::scripts::LuaScript,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> Result<(bool, u32), WorkflowError> {
        let (reply, attempts) = self.run_script(pick, keys, args).await?;
        match reply.as_u64() {
            Some(answer) => Ok((answer == 1, attempts)),
            None => Err(WorkflowError::Store(format!(
                "unexpected reply from a workflow-store script: {reply:?}"
            ))),
        }
    }

    /// Runs one of the store's scripts (retried: each is safe to repeat); its reply and
    /// the 0-based number of the attempt that got it.
    pub(crate) async fn run_script(
        &self,
        pick: fn(&crate::scripts::Scripts) -> &crate::scripts::LuaScript,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> Result<(RedisValue, u32), WorkflowError> {
        let script = pick(self.connection.scripts());
        let mut attempts = 0;
        let reply = self
            .connection
            .with_retry(|client, attempt| {
                attempts = attempt;
                script.run(client, keys.clone(), args.clone())
            })
            .await
            .map_err(store_error)?;
        Ok((reply, attempts))
    }

    pub(crate) fn write_args(run: &StoredRun) -> Result<Vec<String>, WorkflowError> {
        Ok(vec![
            run.run_id.clone(),
            run.generation.to_string(),
            if run.cancel_requested { "1" } else { "0" }.to_owned(),
            serde_json::to_string(run)?,
        ])
    }
}

fn store_error(error: FredError) -> WorkflowError {
    WorkflowError::Store(format!("Redis: {error}"))
}

/// A run from its hash's `record`, `generation` and `cancel` fields (all missing: no run).
pub(crate) fn decode_record(
    run_id: &str,
    key: &str,
    fields: &[Option<String>],
) -> Result<Option<StoredRun>, WorkflowError> {
    let (record, generation, cancel) = match fields {
        [None, None, None] => return Ok(None),
        [Some(record), Some(generation), cancel] => (record, generation, cancel),
        _ => {
            return Err(WorkflowError::Store(format!(
                "run `{run_id}` is incomplete in Redis (key `{key}`)"
            )))
        }
    };
    let mut run: StoredRun = serde_json::from_str(record)?;
    run.generation = parse_generation(run_id, generation)?;
    run.cancel_requested = cancel.as_deref() == Some("1");
    Ok(Some(run))
}

fn parse_generation(run_id: &str, text: &str) -> Result<u64, WorkflowError> {
    text.parse().map_err(|_| {
        WorkflowError::Store(format!(
            "run `{run_id}` has a corrupt generation in Redis: {text:?}"
        ))
    })
}

#[async_trait]
impl WorkflowStore for RedisWorkflowStore {
    async fn put(&self, run: &StoredRun) -> Result<(), WorkflowError> {
        let keys = vec![self.run_key(&run.run_id), self.index_key()];
        self.script(|s| &s.workflow_put, keys, Self::write_args(run)?)
            .await
            .map(|_| ())
    }

    async fn load(&self, run_id: &str) -> Result<Option<StoredRun>, WorkflowError> {
        let key = self.run_key(run_id);
        let fields: Vec<Option<String>> = self
            .connection
            .with_retry(|client, _| {
                let args: Vec<RedisValue> = vec![
                    key.as_str().into(),
                    "record".into(),
                    "generation".into(),
                    "cancel".into(),
                ];
                client.custom(CustomCommand::new_static("HMGET", None, false), args)
            })
            .await
            .map_err(store_error)?;
        decode_record(run_id, &key, &fields)
    }

    async fn save(&self, run: &StoredRun) -> Result<bool, WorkflowError> {
        let keys = vec![self.run_key(&run.run_id), self.index_key()];
        self.script(|s| &s.workflow_save, keys, Self::write_args(run)?)
            .await
            .map(|(saved, _)| saved)
    }

    async fn save_reading_cancel(&self, run: &StoredRun) -> Result<Option<bool>, WorkflowError> {
        let keys = vec![self.run_key(&run.run_id), self.index_key()];
        let args = Self::write_args(run)?;
        let (reply, _) = self
            .run_script(|s| &s.workflow_save_read_cancel, keys, args)
            .await?;
        match reply.as_u64() {
            Some(0) => Ok(None),
            Some(1) => Ok(Some(false)),
            Some(2) => Ok(Some(true)),
            _ => Err(WorkflowError::Store(format!(
                "unexpected reply from the save script: {reply:?}"
            ))),
        }
    }

    async fn fence(&self, run_id: &str, generation: u64) -> Result<bool, WorkflowError> {
        let keys = vec![self.run_key(run_id)];
        self.script(|s| &s.workflow_fence, keys, vec![generation.to_string()])
            .await
            .map(|(fenced, _)| fenced)
    }

    async fn request_cancel(&self, run_id: &str) -> Result<bool, WorkflowError> {
        let keys = vec![self.run_key(run_id)];
        self.script(|s| &s.workflow_cancel, keys, Vec::new())
            .await
            .map(|(marked, _)| marked)
    }

    /// One script; when Redis had to be asked again (the reply of a first attempt was
    /// lost), a missing record counts as removed by that attempt.
    async fn remove(&self, run_id: &str, generation: u64) -> Result<bool, WorkflowError> {
        let keys = vec![self.run_key(run_id), self.index_key()];
        let args = vec![run_id.to_owned(), generation.to_string()];
        let (removed, attempts) = self.script(|s| &s.workflow_remove, keys, args).await?;
        if removed || attempts == 0 {
            return Ok(removed);
        }
        Ok(self.load(run_id).await?.is_none())
    }

    /// One script when `lease` is a [`RedisLeases`](crate::RedisLeases) on the same Redis.
    async fn claim_and_load(
        &self,
        lease: RunLease<'_>,
        run_id: &str,
    ) -> Result<Option<(Lease, Option<StoredRun>)>, WorkflowError> {
        match self.colocated(lease.leases) {
            Some(leases) => self.claim_and_load_with(leases, lease, run_id).await,
            None => claim_then_load(self, lease, run_id).await,
        }
    }

    /// One script when `lease` is a [`RedisLeases`](crate::RedisLeases) on the same Redis.
    async fn save_and_release(
        &self,
        run: &StoredRun,
        lease: RunLease<'_>,
    ) -> Result<bool, WorkflowError> {
        match self.colocated(lease.leases) {
            Some(leases) => self.save_and_release_with(leases, run, lease).await,
            None => save_then_release(self, run, lease).await,
        }
    }

    /// One script when `lease` is a [`RedisLeases`](crate::RedisLeases) and `next` goes to a
    /// [`RedisPubSub`](crate::RedisPubSub), both on the same Redis.
    async fn save_release_and_enqueue(
        &self,
        run: &StoredRun,
        lease: RunLease<'_>,
        next: Enqueue<'_>,
    ) -> Result<bool, WorkflowError> {
        match self.colocated_both(lease.leases, next.pubsub) {
            Some(both) => self.save_release_enqueue_with(both, run, lease, next).await,
            None => save_release_then_enqueue(self, run, lease, next).await,
        }
    }

    async fn list(&self) -> Result<Vec<String>, WorkflowError> {
        let key = self.index_key();
        self.connection
            .with_retry(|client, _| {
                let args: Vec<RedisValue> = vec![key.as_str().into()];
                client.custom(CustomCommand::new_static("SMEMBERS", None, false), args)
            })
            .await
            .map_err(store_error)
    }
}
