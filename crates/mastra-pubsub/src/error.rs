//! Errors of the pubsub contract. Whether a failure is worth retrying is part of the type.

/// A pubsub or lease operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PubSubError {
    /// The transport has been shut down; no further operation will succeed (terminal).
    #[error("pubsub transport is closed")]
    Closed,
    /// The transport could not be reached right now (retryable).
    #[error("pubsub transport unavailable: {0}")]
    Unavailable(String),
    /// A topic, group or lease name the backend cannot accept (terminal).
    #[error("invalid name `{name}`: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An event could not be encoded or decoded (terminal).
    #[error("event encoding failed: {0}")]
    Encoding(#[from] serde_json::Error),
    /// A failure of the backend itself, with its retryability stated by the backend.
    #[error("pubsub backend failed: {source}")]
    Backend {
        /// The backend's own error.
        source: Box<dyn std::error::Error + Send + Sync>,
        /// Whether the same operation may succeed if made again.
        retryable: bool,
    },
}

impl PubSubError {
    /// Wraps a backend's error.
    pub fn backend(
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
        retryable: bool,
    ) -> Self {
        Self::Backend {
            source: source.into(),
            retryable,
        }
    }

    /// Whether the same operation may succeed if made again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Closed | Self::InvalidName { .. } | Self::Encoding(_) => false,
            Self::Backend { retryable, .. } => *retryable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryability_is_part_of_the_type() {
        assert!(PubSubError::Unavailable("down".into()).is_retryable());
        assert!(!PubSubError::Closed.is_retryable());
        assert!(PubSubError::backend("timeout", true).is_retryable());
        assert!(!PubSubError::backend("bad auth", false).is_retryable());
    }
}
