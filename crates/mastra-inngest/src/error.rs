//! Errors: the crate's own ([`InngestError`]) and the ones user code reports ([`StepError`]).

use serde::{Deserialize, Serialize};

/// What can go wrong talking the Inngest protocol.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InngestError {
    /// A configuration value is missing or malformed.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A request's signature is missing, stale or wrong.
    #[error("signature rejected: {0}")]
    Signature(String),
    /// The Inngest server (or dev server) answered with an error.
    #[error("inngest API error (status {status}): {message}")]
    Api { status: u16, message: String },
    /// A body could not be encoded or decoded.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A transport failure (connection, TLS, timeout).
    #[error("transport error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl InngestError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, .. } => *status >= 500 || *status == 429,
            Self::Backend(_) => true,
            _ => false,
        }
    }
}

impl From<reqwest::Error> for InngestError {
    fn from(error: reqwest::Error) -> Self {
        Self::Backend(Box::new(error))
    }
}

/// An error raised by a step body or a function handler, as it travels on the wire
/// (`{name, message, stack?}`). Retrying is part of the type: a non-retriable error
/// fails the step (or the function) at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{name}: {message}")]
pub struct StepError {
    pub name: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// Not on the wire: decides `StepFailed` vs `StepError`, `400` vs `500`.
    #[serde(skip)]
    pub non_retriable: bool,
}

impl StepError {
    /// A retriable error named `Error`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            name: "Error".into(),
            message: message.into(),
            stack: None,
            non_retriable: false,
        }
    }

    /// An error that must not be retried (named `NonRetriableError`, as the JS SDK does).
    pub fn non_retriable(message: impl Into<String>) -> Self {
        Self {
            name: "NonRetriableError".into(),
            non_retriable: true,
            ..Self::new(message)
        }
    }

    /// Renames the error.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}
