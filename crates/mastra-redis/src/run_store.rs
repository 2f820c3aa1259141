//! `RedisRunStore`: the durable agent's [`RunStore`] in Redis, so a paused run (waiting for
//! an approval or resume data) survives the process that paused it.

use std::time::Duration;

use async_trait::async_trait;
use fred::error::Error as FredError;
use fred::interfaces::{ClientLike, KeysInterface};
use fred::types::{CustomCommand, Value as RedisValue};
use mastra_durable::{DurableError, RunRecord, RunStore};

use crate::error::{classify, Failure};
use crate::{RedisConfig, RedisConnection, RedisError};

/// How long a taken record stays readable under its take's receipt, for a retry of a take
/// whose reply was lost.
const TAKE_RECEIPT_TTL: Duration = Duration::from_secs(60);

/// A [`RunStore`] in Redis: any instance sharing the Redis can approve, decline or resume
/// a run another instance paused, also after that instance is gone.
///
/// Layout, under the connection's key prefix (`mastra:cache:` by default):
///
/// | key | type | content |
/// |---|---|---|
/// | `<prefix>run-state:run:<runId>` | string | the [`RunRecord`] as JSON |
/// | `<prefix>run-state:runs` | set | the ids of every stored run |
/// | `<prefix>run-state:taken:<runId>:<receipt>` | string | a taken record, for 60 s (see below) |
///
/// `save`, `take` and `delete` are each one Lua script (one round trip, atomic) that keeps
/// the record and the set in step; [`list`](RunStore::list) reads the set (`SMEMBERS`), so
/// its cost is the number of runs, not the size of the keyspace. Records never expire.
///
/// [`take`](RunStore::take) is atomic: of several callers in any processes, one gets the
/// record. Each take carries a fresh receipt under which the script keeps what it took
/// for a minute, so when the reply is lost (a dropped connection) the retried take still
/// returns the record rather than losing the run.
///
/// Like [`RedisWorkflowStore`](crate::RedisWorkflowStore), the keys share the run logs'
/// prefix (`ServerCache::clear` of that prefix deletes them; use
/// [`with_prefix`](Self::with_prefix) to keep them apart) and the scripts need standalone
/// Redis (or Sentinel), not Redis Cluster.
#[derive(Debug, Clone)]
pub struct RedisRunStore {
    connection: RedisConnection,
    prefix: String,
}

impl RedisRunStore {
    /// A store over `connection`, under its key prefix.
    pub fn new(connection: RedisConnection) -> Self {
        let prefix = format!("{}run-state:", connection.config().key_prefix);
        Self { connection, prefix }
    }

    /// A store over `connection` whose keys start with `prefix` (instead of
    /// `<key prefix>run-state:`).
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

    /// Connects to the Redis at `url` with the default settings otherwise.
    pub async fn from_url(url: impl Into<String>) -> Result<Self, RedisError> {
        Self::connect(RedisConfig::new(url)).await
    }

    /// The prefix of every key of this store.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of run `run_id`'s record.
    pub fn run_key(&self, run_id: &str) -> String {
        format!("{}run:{run_id}", self.prefix)
    }

    /// The Redis key of the set of run ids.
    pub fn index_key(&self) -> String {
        format!("{}runs", self.prefix)
    }
}

fn store_error(error: FredError) -> DurableError {
    let retryable = classify(&error) == Failure::Transient;
    DurableError::Backend {
        source: Box::new(error),
        retryable,
    }
}

fn parse(text: Option<String>) -> Result<Option<RunRecord>, DurableError> {
    text.map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(DurableError::from)
}

#[async_trait]
impl RunStore for RedisRunStore {
    async fn save(&self, record: &RunRecord) -> Result<(), DurableError> {
        let run_id = &record.state.run_id;
        let keys = vec![self.run_key(run_id), self.index_key()];
        let args = vec![run_id.clone(), serde_json::to_string(record)?];
        let script = &self.connection.scripts().run_save;
        self.connection
            .with_retry(|client, _| script.run(client, keys.clone(), args.clone()))
            .await
            .map_err(store_error)
            .map(|_| ())
    }

    async fn load(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        let key = self.run_key(run_id);
        let text: Option<String> = self
            .connection
            .with_retry(|client, _| client.get(&key))
            .await
            .map_err(store_error)?;
        parse(text)
    }

    async fn take(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        let receipt = uuid::Uuid::new_v4().simple().to_string();
        let keys = vec![
            self.run_key(run_id),
            self.index_key(),
            format!("{}taken:{run_id}:{receipt}", self.prefix),
        ];
        let ttl = TAKE_RECEIPT_TTL.as_millis().to_string();
        let args = vec![run_id.to_owned(), ttl];
        let script = &self.connection.scripts().run_take;
        let reply = self
            .connection
            .with_retry(|client, _| script.run(client, keys.clone(), args.clone()))
            .await
            .map_err(store_error)?;
        match reply {
            RedisValue::Null => Ok(None),
            other => match other.into_string() {
                Some(text) => parse(Some(text)),
                None => Err(DurableError::Backend {
                    source: format!("run `{run_id}`: unexpected reply to take").into(),
                    retryable: false,
                }),
            },
        }
    }

    async fn delete(&self, run_id: &str) -> Result<(), DurableError> {
        let keys = vec![self.run_key(run_id), self.index_key()];
        let args = vec![run_id.to_owned()];
        let script = &self.connection.scripts().run_delete;
        self.connection
            .with_retry(|client, _| script.run(client, keys.clone(), args.clone()))
            .await
            .map_err(store_error)
            .map(|_| ())
    }

    async fn list(&self) -> Result<Vec<String>, DurableError> {
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
