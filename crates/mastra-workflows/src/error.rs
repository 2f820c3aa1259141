//! Errors of the workflow engine. Whether a failure is worth retrying is part of the type.

use mastra_durable::DurableError;
use mastra_pubsub::PubSubError;

/// A workflow or evented-engine operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// No workflow (or evented agent) is registered under this id here.
    #[error("unknown workflow `{0}`")]
    UnknownWorkflow(String),
    /// No run with this id is stored.
    #[error("unknown workflow run `{0}`")]
    UnknownRun(String),
    /// A step failed; the run ends with this error.
    #[error("step `{step}` failed: {message}")]
    Step {
        /// The step's id.
        step: String,
        /// What went wrong.
        message: String,
    },
    /// Another executor owns the run now (a newer generation): this one must stop.
    #[error("run `{run_id}` is owned by a newer executor")]
    Superseded {
        /// The run.
        run_id: String,
    },
    /// A run ended without an output (failed or cancelled).
    #[error("run `{run_id}` ended without an output: {reason}")]
    Ended {
        /// The run.
        run_id: String,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error("workflow store failed: {0}")]
    Store(String),
    /// The transport failed.
    #[error(transparent)]
    PubSub(#[from] PubSubError),
    /// The durable layer failed.
    #[error(transparent)]
    Durable(#[from] DurableError),
    /// A value did not (de)serialize.
    #[error("encoding failed: {0}")]
    Encoding(#[from] serde_json::Error),
}

impl WorkflowError {
    /// Whether the same operation may succeed if made again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::PubSub(error) => error.is_retryable(),
            Self::Durable(error) => error.is_retryable(),
            Self::Store(_) => true,
            Self::UnknownWorkflow(_)
            | Self::UnknownRun(_)
            | Self::Step { .. }
            | Self::Superseded { .. }
            | Self::Ended { .. }
            | Self::Encoding(_) => false,
        }
    }
}

impl From<WorkflowError> for DurableError {
    fn from(error: WorkflowError) -> Self {
        match error {
            WorkflowError::Durable(error) => error,
            WorkflowError::PubSub(error) => DurableError::PubSub(error),
            other => {
                let retryable = other.is_retryable();
                DurableError::Backend {
                    source: Box::new(other),
                    retryable,
                }
            }
        }
    }
}
