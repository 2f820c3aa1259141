//! `ClientError`: what a request can fail with, and whether trying again may help.

use reqwest::StatusCode;

/// A failed request or stream.
///
/// [`ClientError::is_retryable`] tells connection losses and server-side failures (worth a
/// reconnect) from caller mistakes such as an unknown agent or run (never worth one).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with an error status and its `{"error": ..}` message.
    #[error("HTTP {status}: {message}")]
    Status {
        /// The status code.
        status: StatusCode,
        /// The server's `error` message (or the raw body when it was not JSON).
        message: String,
    },
    /// The connection failed, or the body broke off.
    #[error("connection failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// The stream ended before its terminal event or `[DONE]`.
    #[error("the stream ended early (after index {last_index:?})")]
    Truncated {
        /// The last index delivered before the stream ended, if any.
        last_index: Option<u64>,
    },
    /// A stream sent nothing (not even a heartbeat) for this long.
    #[error("the stream was silent for {0:?}")]
    Idle(std::time::Duration),
    /// A body or SSE item that does not decode.
    #[error("cannot decode the response: {0}")]
    Decode(String),
    /// The run streamed an `error` chunk (as `@mastra/client-js`, which throws on it).
    #[error("the run failed: {0}")]
    Run(String),
    /// Reconnecting failed this many times in a row; the last failure is the source.
    #[error("gave up after {attempts} attempts: {source}")]
    RetriesExhausted {
        /// How many attempts in a row failed.
        attempts: u32,
        /// The last failure.
        #[source]
        source: Box<ClientError>,
    },
    /// The base URL or a path does not form a valid URL.
    #[error("invalid URL: {0}")]
    Url(String),
}

impl ClientError {
    /// Whether trying again may succeed: transport failures, truncated streams and 5xx
    /// (and 408/429) answers. 4xx answers, decode failures and run errors are terminal.
    pub fn is_retryable(&self) -> bool {
        match self {
            // A body that breaks off reads as a reqwest decode error: retryable too.
            Self::Transport(error) => !error.is_builder(),
            Self::Truncated { .. } | Self::Idle(_) => true,
            Self::Status { status, .. } => {
                status.is_server_error()
                    || *status == StatusCode::REQUEST_TIMEOUT
                    || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Self::Decode(_) | Self::Run(_) | Self::RetriesExhausted { .. } | Self::Url(_) => false,
        }
    }

    /// The HTTP status, when the server answered with an error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::RetriesExhausted { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The error of an answer with status `status` and body `body` (`{"error": ..}`).
    pub(crate) fn from_body(status: StatusCode, body: &str) -> Self {
        let message = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|value| {
                value
                    .get("error")
                    .and_then(|e| e.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| body.trim().to_owned());
        Self::Status { status, message }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_and_retryability() {
        let error =
            ClientError::from_body(StatusCode::NOT_FOUND, r#"{"error":"run `x` not found"}"#);
        assert_eq!(error.to_string(), "HTTP 404 Not Found: run `x` not found");
        assert!(!error.is_retryable());
        assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
        let error = ClientError::from_body(StatusCode::BAD_GATEWAY, "upstream down");
        assert!(error.is_retryable());
        assert!(
            matches!(&error, ClientError::Status { message, .. } if message == "upstream down")
        );
        assert!(ClientError::Truncated {
            last_index: Some(3)
        }
        .is_retryable());
        assert!(!ClientError::Run("boom".into()).is_retryable());
    }
}
