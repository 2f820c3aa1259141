//! Errors of the core crate. Whether a failure is worth retrying is part of the type.

use serde::{Deserialize, Serialize};

/// A model call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The provider answered with an error status.
    #[error("model provider answered HTTP {status}: {message}")]
    Status { status: u16, message: String },
    /// The provider could not be reached.
    #[error("could not reach the model provider: {0}")]
    Connection(String),
    /// The stream broke off before the model finished.
    #[error("model stream ended unexpectedly: {0}")]
    Disconnected(String),
    /// The provider sent something that is not its documented format.
    #[error("malformed model response: {0}")]
    Malformed(String),
    /// The model is configured wrongly (missing API key, bad URL, ...).
    #[error("invalid model configuration: {0}")]
    Config(String),
    /// The call was aborted through its signal.
    #[error("model call aborted")]
    Aborted,
    /// Any other failure, with its retryability stated by whoever raised it.
    #[error("{message}")]
    Other { message: String, retryable: bool },
}

impl ModelError {
    /// Whether the same call may succeed if made again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
            Self::Connection(_) | Self::Disconnected(_) => true,
            Self::Malformed(_) | Self::Config(_) | Self::Aborted => false,
            Self::Other { retryable, .. } => *retryable,
        }
    }
}

/// A tool call failed. The agent loop turns this into a `tool-error` chunk and goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The model's arguments do not match the tool's input schema.
    #[error("invalid arguments for tool `{tool}`: {message}")]
    InvalidArgs { tool: String, message: String },
    /// The model asked for a tool the agent does not have.
    #[error("unknown tool `{0}`")]
    UnknownTool(String),
    /// The tool ran and failed.
    #[error("{0}")]
    Execution(String),
    /// The tool stopped because the run was aborted.
    #[error("tool call aborted")]
    Aborted,
    /// The tool pauses the run until it is resumed with data (see `ToolContext::resume_data`).
    #[error("tool suspended")]
    Suspend(serde_json::Value),
    /// A person declined the call.
    #[error("the tool call was declined")]
    Declined,
}

impl ToolError {
    /// A failure raised by a tool's own code.
    pub fn execution(message: impl Into<String>) -> Self {
        Self::Execution(message.into())
    }

    /// The error's class name as it appears in `{name, message}` on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Self::InvalidArgs { .. } => "ToolInvalidArgsError",
            Self::UnknownTool(_) => "ToolNotFoundError",
            Self::Execution(_) => "ToolExecutionError",
            Self::Aborted => "AbortError",
            Self::Suspend(_) => "ToolSuspended",
            Self::Declined => "ToolCallDeclinedError",
        }
    }
}

/// An agent run failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The run was aborted before it produced a result (only `generate` reports this).
    #[error("agent run aborted")]
    Aborted,
    /// The chunk stream ended without a terminal chunk.
    #[error("agent stream ended without a finish chunk")]
    Incomplete,
    /// A decision or resume data that does not fit the run's state.
    #[error("cannot resume: {0}")]
    InvalidResume(String),
    /// An error reported by a run that was observed rather than executed here.
    #[error("{0}")]
    Remote(ErrorInfo),
}

impl AgentError {
    /// The wire form `{name, message}` of this error (no stack, no internals).
    pub fn info(&self) -> ErrorInfo {
        match self {
            Self::Remote(info) => info.clone(),
            Self::Model(_) => ErrorInfo::new("ModelError", self.to_string()),
            Self::Aborted => ErrorInfo::new("AbortError", self.to_string()),
            Self::Incomplete => ErrorInfo::new("IncompleteStreamError", self.to_string()),
            Self::InvalidResume(_) => ErrorInfo::new("InvalidResumeError", self.to_string()),
        }
    }
}

/// An error as it travels on the wire: `{name, message}`. A plain string is accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorInfo {
    pub name: String,
    pub message: String,
}

impl ErrorInfo {
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl<'de> Deserialize<'de> for ErrorInfo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Text(String),
            Object {
                #[serde(default)]
                name: Option<String>,
                #[serde(default)]
                message: Option<String>,
            },
        }
        Ok(match Wire::deserialize(d)? {
            Wire::Text(message) => ErrorInfo::new("Error", message),
            Wire::Object { name, message } => ErrorInfo::new(
                name.unwrap_or_else(|| "Error".into()),
                message.unwrap_or_default(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryability_is_part_of_the_type() {
        let status = |status| ModelError::Status {
            status,
            message: String::new(),
        };
        assert!(status(429).is_retryable());
        assert!(status(503).is_retryable());
        assert!(!status(400).is_retryable());
        assert!(!status(401).is_retryable());
        assert!(ModelError::Disconnected("eof".into()).is_retryable());
        assert!(!ModelError::Malformed("junk".into()).is_retryable());
        assert!(!ModelError::Aborted.is_retryable());
    }

    #[test]
    fn error_info_reads_strings_and_objects() {
        let a: ErrorInfo = serde_json::from_str(r#""boom""#).unwrap();
        assert_eq!(a, ErrorInfo::new("Error", "boom"));
        let b: ErrorInfo = serde_json::from_str(r#"{"name":"TypeError","message":"x"}"#).unwrap();
        assert_eq!(b, ErrorInfo::new("TypeError", "x"));
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            r#"{"name":"TypeError","message":"x"}"#
        );
    }
}
