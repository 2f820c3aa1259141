//! Errors of the cache contract. Whether a failure is worth retrying is part of the type.

/// A cache operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The key holds a value of another kind (a list where a value was expected, or the
    /// reverse), like Redis's `WRONGTYPE` (terminal).
    #[error("key `{key}` does not hold a {expected}")]
    WrongType {
        /// The key.
        key: String,
        /// What the operation needed: `"value"` or `"list"`.
        expected: &'static str,
    },
    /// An appended log entry is not a JSON object without an `index` field (terminal).
    #[error("invalid log entry for `{key}`: {reason}")]
    InvalidEntry {
        /// The log's key.
        key: String,
        /// What is wrong with the entry.
        reason: String,
    },
    /// A stored value could not be encoded or decoded (terminal).
    #[error("cache value encoding failed: {0}")]
    Encoding(#[from] serde_json::Error),
    /// The cache could not be reached right now (retryable).
    #[error("cache unavailable: {0}")]
    Unavailable(String),
    /// A failure of the backend itself, with its retryability stated by the backend.
    #[error("cache backend failed: {source}")]
    Backend {
        /// The backend's own error.
        source: Box<dyn std::error::Error + Send + Sync>,
        /// Whether the same operation may succeed if made again.
        retryable: bool,
    },
}

impl CacheError {
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
            Self::WrongType { .. } | Self::InvalidEntry { .. } | Self::Encoding(_) => false,
            Self::Backend { retryable, .. } => *retryable,
        }
    }
}
