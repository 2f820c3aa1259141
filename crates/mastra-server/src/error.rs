//! `ApiError`: every failure before a response starts streaming, as `{"error": "..."}`
//! with a 4xx status for caller mistakes and 5xx for ours (the official client retries 5xx).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mastra_core::AgentError;
use mastra_durable::DurableError;
use serde_json::json;

/// An HTTP error answered as JSON `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {limit} bytes"),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub(crate) fn unknown_agent(agent_id: &str) -> Self {
        Self::not_found(format!("agent `{agent_id}` not found"))
    }

    pub(crate) fn unknown_run(run_id: &str) -> Self {
        Self::not_found(format!("run `{run_id}` not found"))
    }

    pub(crate) fn not_durable(agent_id: &str) -> Self {
        Self::bad_request(format!(
            "agent `{agent_id}` is not durable: its runs cannot be observed, resumed, \
             approved or aborted over HTTP"
        ))
    }
}

impl From<DurableError> for ApiError {
    fn from(error: DurableError) -> Self {
        let message = error.to_string();
        match error {
            DurableError::UnknownRun { .. } => Self::not_found(message),
            // The run exists but cannot take this request (not paused, id taken, ...).
            DurableError::RunState { .. } => Self::conflict(message),
            DurableError::Agent(agent) => agent.into(),
            other if other.is_retryable() => Self::new(StatusCode::SERVICE_UNAVAILABLE, message),
            _ => Self::internal(message),
        }
    }
}

impl From<AgentError> for ApiError {
    fn from(error: AgentError) -> Self {
        match error {
            // The answer does not fit what the run waits on: the caller's mistake.
            AgentError::InvalidResume(_) => Self::bad_request(error.to_string()),
            other => Self::internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, error = %self.message, "request failed");
        }
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durable_errors_map_to_statuses() {
        let unknown = DurableError::UnknownRun { topic: "t".into() };
        assert_eq!(ApiError::from(unknown).status, StatusCode::NOT_FOUND);
        let state = DurableError::RunState {
            run_id: "r".into(),
            reason: "not paused".into(),
        };
        assert_eq!(ApiError::from(state).status, StatusCode::CONFLICT);
        let resume = DurableError::Agent(AgentError::InvalidResume("no".into()));
        assert_eq!(ApiError::from(resume).status, StatusCode::BAD_REQUEST);
    }
}
