//! `RedisConnection`: the pool of fred clients that the cache, the pubsub and the leases
//! share, with the retry loop for cache commands.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use fred::clients::{Client, Pool, SubscriberClient};
use fred::error::Error as FredError;
use fred::interfaces::ClientLike;
use fred::types::config::{Config, ConnectionConfig, PerformanceConfig, ReconnectPolicy};
use fred::types::Builder;

use crate::error::{classify, connect_error, Failure};
use crate::scripts::Scripts;
use crate::{RedisConfig, RedisError};

/// A connected pool of Redis connections plus the crate's settings. Cheap to clone; the
/// connections close when the last clone is dropped.
#[derive(Clone)]
pub struct RedisConnection {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    config: RedisConfig,
    scripts: Scripts,
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConnection")
            .field("url", &crate::config::redact(&self.inner.config.url))
            .field("pool_size", &self.inner.config.pool_size)
            .field("key_prefix", &self.inner.config.key_prefix)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Close the sockets now rather than when the runtime goes away.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pool = self.pool.clone();
            runtime.spawn(async move {
                let _ = pool.quit().await;
            });
        }
    }
}

impl RedisConnection {
    /// Connects a pool of `config.pool_size` connections. Fails at once when Redis cannot
    /// be reached; later outages are ridden out by reconnecting (see [`RetryPolicy`](crate::RetryPolicy)).
    pub async fn connect(config: RedisConfig) -> Result<Self, RedisError> {
        config.validate()?;
        let pool = builder(&config, POOL_BROADCAST_CAPACITY)?
            .build_pool(config.pool_size)
            .map_err(|error| connect_error(&config.url, error))?;
        let connecting = pool.init();
        match tokio::time::timeout(config.connect_timeout, connecting).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Err(connect_error(&config.url, error)),
            Err(_) => {
                let _ = pool.quit().await;
                return Err(RedisError::Connect {
                    url: crate::config::redact(&config.url),
                    source: "timed out connecting".into(),
                    retryable: true,
                });
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                config,
                scripts: Scripts::new(),
            }),
        })
    }

    /// Connects with the settings of `REDIS_URL` ([`RedisConfig::from_env`]).
    pub async fn from_env() -> Result<Self, RedisError> {
        Self::connect(RedisConfig::from_env()?).await
    }

    /// The settings of this connection.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// A pooled client for one command.
    pub(crate) fn client(&self) -> &Client {
        self.inner.pool.next()
    }

    pub(crate) fn scripts(&self) -> &Scripts {
        &self.inner.scripts
    }

    /// A new, connected subscriber client (one dedicated connection) for fan-out.
    pub(crate) async fn subscriber(&self) -> Result<SubscriberClient, RedisError> {
        let config = &self.inner.config;
        let subscriber = builder(config, SUBSCRIBER_BROADCAST_CAPACITY)?
            .build_subscriber_client()
            .map_err(|error| connect_error(&config.url, error))?;
        match tokio::time::timeout(config.connect_timeout, subscriber.init()).await {
            Ok(Ok(_)) => Ok(subscriber),
            Ok(Err(error)) => Err(connect_error(&config.url, error)),
            Err(_) => {
                let _ = subscriber.quit().await;
                Err(RedisError::Connect {
                    url: crate::config::redact(&config.url),
                    source: "timed out connecting the subscriber".into(),
                    retryable: true,
                })
            }
        }
    }

    /// A new, connected client on a connection of its own, for blocking commands (a
    /// consumer-group member's reads), which would hold up a pooled connection.
    pub(crate) async fn dedicated(&self) -> Result<Client, RedisError> {
        let config = &self.inner.config;
        let client = builder(config, POOL_BROADCAST_CAPACITY)?
            .build()
            .map_err(|error| connect_error(&config.url, error))?;
        match tokio::time::timeout(config.connect_timeout, client.init()).await {
            Ok(Ok(_)) => Ok(client),
            Ok(Err(error)) => Err(connect_error(&config.url, error)),
            Err(_) => {
                let _ = client.quit().await;
                Err(RedisError::Connect {
                    url: crate::config::redact(&config.url),
                    source: "timed out connecting a group member".into(),
                    retryable: true,
                })
            }
        }
    }

    /// Runs `command` (given the 0-based attempt number), retrying transient failures
    /// with the configured backoff. Commands that are not idempotent must make a retry
    /// safe themselves (the append script is told it is retrying).
    pub(crate) async fn with_retry<'a, T, F, Fut>(&'a self, mut command: F) -> Result<T, FredError>
    where
        F: FnMut(&'a Client, u32) -> Fut,
        Fut: Future<Output = Result<T, FredError>>,
    {
        let policy = self.inner.config.retry;
        let mut attempt = 0;
        loop {
            match command(self.client(), attempt).await {
                Err(error)
                    if classify(&error) == Failure::Transient && attempt + 1 < policy.attempts =>
                {
                    tracing::debug!(attempt, %error, "redis command failed, retrying");
                    tokio::time::sleep(policy.backoff(attempt)).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }
}

/// Slots of each of fred's per-client broadcast channels (messages, errors, reconnects, ...)
/// for the pooled command clients, which receive no pub/sub messages: fred's default.
const POOL_BROADCAST_CAPACITY: usize = 32;
/// The same for the subscriber client, whose message channel buffers live events until our
/// dispatch task routes them. tokio allocates every slot up front, for each of the client's
/// channels: 65,536 cost about 47 MB per client. An overflow is reported (`Lagged`) and
/// observers catch up from the run log, so this only needs to absorb ordinary bursts.
const SUBSCRIBER_BROADCAST_CAPACITY: usize = 1 << 12;

/// The fred builder for `config`: reconnect forever with exponential backoff (a lost
/// connection is never fatal), one attempt per command (our retry layer decides what is
/// safe to repeat), and a command timeout so that nothing waits forever.
fn builder(config: &RedisConfig, broadcast_capacity: usize) -> Result<Builder, RedisError> {
    let mut fred_config = Config::from_url(&config.url).map_err(|error| {
        RedisError::Config(format!("{}: {error}", crate::config::redact(&config.url)))
    })?;
    fred_config.fail_fast = true;
    let mut builder = Builder::from_config(fred_config);
    builder
        .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2))
        .set_connection_config(ConnectionConfig {
            connection_timeout: config.connect_timeout,
            internal_command_timeout: config.command_timeout,
            max_command_attempts: 1,
            auto_client_setname: true,
            ..ConnectionConfig::default()
        })
        .set_performance_config(PerformanceConfig {
            default_command_timeout: config.command_timeout,
            broadcast_channel_capacity: broadcast_capacity,
            ..PerformanceConfig::default()
        });
    Ok(builder)
}
