//! Errors of the durable layer. Whether a failure is worth retrying is part of the type.

use std::sync::Arc;
use std::time::Duration;

use mastra_cache::CacheError;
use mastra_pubsub::PubSubError;

/// A durable-stream operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DurableError {
    /// Nothing is logged for the topic: the run never existed, expired or was cleared
    /// (terminal: observing it again gives the same answer).
    #[error("unknown or expired run: nothing is logged on `{topic}`")]
    UnknownRun {
        /// The observed topic.
        topic: String,
    },
    /// No event arrived within the observer's idle timeout (terminal for that observer).
    #[error("no event on `{topic}` for {idle:?}")]
    IdleTimeout {
        /// The observed topic.
        topic: String,
        /// The idle timeout that elapsed.
        idle: Duration,
    },
    /// Events the observer needs are no longer in the log (it expired, was evicted or
    /// cleared while the observer was behind); terminal.
    #[error("events {expected}..{found} of `{topic}` are missing from its log")]
    Gap {
        /// The observed topic.
        topic: String,
        /// The first index the observer has not received.
        expected: u64,
        /// The index it was offered instead.
        found: u64,
    },
    /// A log entry is not an event at the position it is stored at (terminal).
    #[error("log entry {position} of `{topic}` is corrupt: {reason}")]
    CorruptLog {
        /// The log's topic.
        topic: String,
        /// The entry's position.
        position: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A live-only observer (no log to catch up from) missed events.
    #[error(
        "the live stream of `{topic}` dropped {missed} events and has no log to replay them from"
    )]
    LiveGap {
        /// The observed topic.
        topic: String,
        /// How many events were missed (0 when unknown, after a reconnect).
        missed: u64,
    },
    /// The run is not known to this agent, or not in a state that allows the request.
    #[error("run `{run_id}`: {reason}")]
    RunState {
        /// The run.
        run_id: String,
        /// What is wrong.
        reason: String,
    },
    /// A queued write of the topic failed after its retries, so this event (queued after
    /// it, or in it) was not written either: a producer that lost events stops (terminal).
    #[error("writing `{topic}` failed: {source}")]
    WriteFailed {
        /// The topic whose write failed.
        topic: String,
        /// The failure of the write, shared by every event it took down.
        source: Arc<DurableError>,
    },
    /// The agent failed while running (terminal for that run).
    #[error(transparent)]
    Agent(#[from] mastra_core::AgentError),
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The pubsub transport failed.
    #[error(transparent)]
    PubSub(#[from] PubSubError),
    /// An event could not be encoded (terminal).
    #[error("event encoding failed: {0}")]
    Encoding(#[from] serde_json::Error),
    /// Any other foreign failure, with its retryability stated by whoever raised it.
    #[error("durable backend failed: {source}")]
    Backend {
        /// The foreign error.
        source: Box<dyn std::error::Error + Send + Sync>,
        /// Whether the same operation may succeed if made again.
        retryable: bool,
    },
}

impl DurableError {
    /// Whether the same operation may succeed if made again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Cache(error) => error.is_retryable(),
            Self::PubSub(error) => error.is_retryable(),
            Self::Backend { retryable, .. } => *retryable,
            Self::UnknownRun { .. }
            | Self::IdleTimeout { .. }
            | Self::Gap { .. }
            | Self::LiveGap { .. }
            | Self::RunState { .. }
            | Self::Agent(_)
            | Self::CorruptLog { .. }
            | Self::WriteFailed { .. }
            | Self::Encoding(_) => false,
        }
    }

    /// This error as a pubsub error, for the [`PubSub`](mastra_pubsub::PubSub) impl.
    pub(crate) fn into_pubsub(self) -> PubSubError {
        match self {
            Self::PubSub(error) => error,
            other => {
                let retryable = other.is_retryable();
                PubSubError::backend(other, retryable)
            }
        }
    }
}
