//! `RedisConfig`: where Redis is and how the backends use it, from code or from `REDIS_URL`.

use std::time::Duration;

use crate::RedisError;

/// The URL used when neither code nor `REDIS_URL` names one.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";
/// Upstream `@mastra/redis`'s key prefix: run logs live at `mastra:cache:pubsub:<topic>`.
pub const DEFAULT_KEY_PREFIX: &str = "mastra:cache:";
/// Prefix of the pub/sub channels and consumer-group streams.
pub const DEFAULT_CHANNEL_PREFIX: &str = "mastra:pubsub:";
/// Upstream's default cache TTL.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// How a failed command is retried: `attempts` tries in all, waiting `initial_backoff`
/// after the first failure and doubling up to `max_backoff`. Only retryable failures
/// (connection lost, timeout, server loading) are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Tries in all (at least 1).
    pub attempts: u32,
    /// Wait after the first failure.
    pub initial_backoff: Duration,
    /// Longest wait between two tries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// A policy of `attempts` tries with the given first and longest backoff.
    pub fn new(attempts: u32, initial_backoff: Duration, max_backoff: Duration) -> Self {
        Self {
            attempts: attempts.max(1),
            initial_backoff,
            max_backoff,
        }
    }

    /// The wait before try number `attempt + 1` (0-based `attempt` that just failed).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(16);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Settings of a [`RedisConnection`](crate::RedisConnection) and the backends built on it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS.
    pub url: String,
    /// Connections in the command pool.
    pub pool_size: usize,
    /// Prefix of every cache and lease key.
    pub key_prefix: String,
    /// Prefix of every pub/sub channel and consumer-group stream.
    pub channel_prefix: String,
    /// Default TTL of cache keys (`Duration::ZERO` = never expire).
    pub default_ttl: Duration,
    /// How long one command may take before it fails (retryably).
    pub command_timeout: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// Retries of cache commands (appends included) when Redis is unreachable.
    pub retry: RetryPolicy,
    /// Consumer groups: a message pending this long with its consumer is taken over by
    /// another member (the consumer is presumed dead).
    pub claim_timeout: Duration,
    /// Consumer groups: approximate cap (`MAXLEN ~`) of a topic's stream.
    pub stream_max_len: u64,
    /// Consumer groups: a topic's stream (with its groups) is deleted after this long
    /// without a publish or a join, so streams of finished runs do not pile up.
    pub stream_ttl: Duration,
    /// Fan-out: how many events a local reader may fall behind before it is told it lagged.
    pub live_capacity: usize,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self::new(DEFAULT_URL)
    }
}

impl RedisConfig {
    /// Settings for the server at `url`, with the defaults otherwise.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 4,
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            channel_prefix: DEFAULT_CHANNEL_PREFIX.to_owned(),
            default_ttl: DEFAULT_TTL,
            command_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            claim_timeout: Duration::from_secs(30),
            stream_max_len: 10_000,
            stream_ttl: Duration::from_secs(24 * 3600),
            live_capacity: 4_096,
        }
    }

    /// Settings for the server named by `REDIS_URL` (or [`DEFAULT_URL`] when unset).
    pub fn from_env() -> Result<Self, RedisError> {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let config = Self::new(url);
        config.validate()?;
        Ok(config)
    }

    /// Checks the URL scheme and the sizes.
    pub fn validate(&self) -> Result<(), RedisError> {
        let scheme_ok = ["redis://", "rediss://"]
            .iter()
            .any(|scheme| self.url.starts_with(scheme));
        if !scheme_ok {
            return Err(RedisError::Config(format!(
                "`{}` is not a redis:// or rediss:// URL",
                redact(&self.url)
            )));
        }
        if self.pool_size == 0 || self.live_capacity == 0 {
            return Err(RedisError::Config(
                "pool size and live capacity must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Whether the connection uses TLS (`rediss://`).
    pub fn uses_tls(&self) -> bool {
        self.url.starts_with("rediss://")
    }

    /// These settings with another pool size.
    pub fn with_pool_size(mut self, pool_size: usize) -> Self {
        self.pool_size = pool_size;
        self
    }

    /// These settings with another key prefix.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// These settings with another channel prefix.
    pub fn with_channel_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.channel_prefix = prefix.into();
        self
    }

    /// These settings with another default TTL (`Duration::ZERO` = never expire).
    pub fn with_default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// These settings with another command timeout.
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// These settings with another connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// These settings with another retry policy for cache commands.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// These settings with another consumer-group claim timeout.
    pub fn with_claim_timeout(mut self, timeout: Duration) -> Self {
        self.claim_timeout = timeout;
        self
    }

    /// These settings with another cap on consumer-group streams.
    pub fn with_stream_max_len(mut self, max_len: u64) -> Self {
        self.stream_max_len = max_len;
        self
    }

    /// These settings with another idle lifetime of consumer-group streams.
    pub fn with_stream_ttl(mut self, ttl: Duration) -> Self {
        self.stream_ttl = ttl;
        self
    }

    /// These settings with another fan-out capacity per local reader.
    pub fn with_live_capacity(mut self, capacity: usize) -> Self {
        self.live_capacity = capacity;
        self
    }
}

/// The URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_upstream() {
        let config = RedisConfig::default();
        assert_eq!(config.key_prefix, "mastra:cache:");
        assert_eq!(config.default_ttl, Duration::from_secs(300));
        assert!(config.validate().is_ok());
        assert!(!config.uses_tls());
        assert!(RedisConfig::new("rediss://u:p@h:6380/1").uses_tls());
        assert!(RedisConfig::new("http://h").validate().is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("redis://u:secret@h:1"), "redis://***@h:1");
        assert_eq!(redact("redis://h:1"), "redis://h:1");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::new(5, Duration::from_millis(10), Duration::from_millis(35));
        assert_eq!(policy.backoff(0), Duration::from_millis(10));
        assert_eq!(policy.backoff(1), Duration::from_millis(20));
        assert_eq!(policy.backoff(2), Duration::from_millis(35));
    }
}
