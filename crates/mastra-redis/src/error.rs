//! Errors of this crate, and how a Redis failure maps onto the cache and pubsub contracts'
//! retryable/terminal errors.

use fred::error::{Error as FredError, ErrorKind};
use mastra_cache::CacheError;
use mastra_pubsub::PubSubError;

/// Setting up a Redis backend failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// The configuration is unusable (terminal).
    #[error("invalid Redis configuration: {0}")]
    Config(String),
    /// Redis could not be reached or refused the connection.
    #[error("cannot connect to Redis at {url}: {source}")]
    Connect {
        /// The URL, without its password.
        url: String,
        /// What went wrong.
        source: Box<dyn std::error::Error + Send + Sync>,
        /// Whether connecting again may succeed (false for bad credentials or TLS setup).
        retryable: bool,
    },
}

impl RedisError {
    /// Whether the same operation may succeed if made again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Config(_) => false,
            Self::Connect { retryable, .. } => *retryable,
        }
    }
}

/// What a failed command means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Redis is unreachable, busy or loading: the same command may succeed later.
    Transient,
    /// The key holds another kind of value (`WRONGTYPE`).
    WrongType,
    /// Anything else (bad arguments, auth, script errors): retrying will not help.
    Terminal,
}

pub(crate) fn classify(error: &FredError) -> Failure {
    let details = error.details();
    if details.contains("WRONGTYPE") {
        return Failure::WrongType;
    }
    const TRANSIENT_REPLIES: [&str; 6] = [
        "LOADING",
        "BUSY",
        "TRYAGAIN",
        "CLUSTERDOWN",
        "MASTERDOWN",
        "READONLY",
    ];
    if TRANSIENT_REPLIES
        .iter()
        .any(|reply| details.starts_with(reply))
    {
        return Failure::Transient;
    }
    // fred's own words for "no connection right now" (reported with kind `Unknown`).
    const TRANSIENT_CLIENT: [&str; 4] = [
        "Failed to route command",
        "Too many failed write attempts",
        "Max attempts exceeded",
        "Missing expected connection",
    ];
    if TRANSIENT_CLIENT
        .iter()
        .any(|words| details.starts_with(words))
    {
        return Failure::Transient;
    }
    match error.kind() {
        ErrorKind::IO
        | ErrorKind::Timeout
        | ErrorKind::Canceled
        | ErrorKind::Backpressure
        | ErrorKind::Routing
        | ErrorKind::Cluster => Failure::Transient,
        _ => Failure::Terminal,
    }
}

/// Maps a failed command on `key` to the cache contract's error.
pub(crate) fn cache_error(key: &str, expected: &'static str, error: FredError) -> CacheError {
    match classify(&error) {
        Failure::Transient => CacheError::Unavailable(error.to_string()),
        Failure::WrongType => CacheError::WrongType {
            key: key.to_owned(),
            expected,
        },
        Failure::Terminal => CacheError::backend(error, false),
    }
}

/// Maps a failed command to the pubsub contract's error.
pub(crate) fn pubsub_error(error: FredError) -> PubSubError {
    match classify(&error) {
        Failure::Transient => PubSubError::Unavailable(error.to_string()),
        Failure::WrongType | Failure::Terminal => PubSubError::backend(error, false),
    }
}

/// Maps a failure to connect.
pub(crate) fn connect_error(url: &str, error: FredError) -> RedisError {
    let retryable = classify(&error) == Failure::Transient;
    RedisError::Connect {
        url: crate::config::redact(url),
        source: Box::new(error),
        retryable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_keep_their_retryability() {
        let down = FredError::new(ErrorKind::IO, "connection refused");
        assert!(cache_error("k", "list", down).is_retryable());
        let timeout = FredError::new(ErrorKind::Timeout, "timed out");
        assert!(pubsub_error(timeout).is_retryable());
        let wrong = FredError::new(
            ErrorKind::Unknown,
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        );
        assert!(matches!(
            cache_error("k", "list", wrong),
            CacheError::WrongType { .. }
        ));
        let loading = FredError::new(ErrorKind::Unknown, "LOADING Redis is loading");
        assert!(cache_error("k", "value", loading).is_retryable());
        let unrouted = FredError::new(ErrorKind::Unknown, "Failed to route command.");
        assert!(cache_error("k", "value", unrouted).is_retryable());
        let auth = FredError::new(ErrorKind::Auth, "WRONGPASS");
        assert!(!cache_error("k", "value", auth).is_retryable());
    }
}
