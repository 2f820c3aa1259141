//! Provider failures as [`ModelError`]s, with the provider's own message where it sent one.
//!
//! OpenAI answers errors with `{"error": {"message", "type", "code"}}`; compatible servers vary
//! (`{"error": "text"}` from Ollama, `{"message"}` or `{"detail"}` elsewhere), so each form is
//! read, falling back to the raw body.

use mastra_core::ModelError;
use serde_json::Value;
use std::error::Error as StdError;

/// Longest raw body quoted in an error message.
const MAX_QUOTED_BODY: usize = 500;

/// An HTTP error answer. Retryability follows from the status (see [`ModelError::is_retryable`]).
pub(crate) fn status_error(status: reqwest::StatusCode, body: &str) -> ModelError {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|value| body_message(&value))
        .unwrap_or_else(|| {
            let raw = body.trim();
            if raw.is_empty() {
                status.canonical_reason().unwrap_or("no message").to_owned()
            } else {
                truncate(raw, MAX_QUOTED_BODY)
            }
        });
    ModelError::Status {
        status: status.as_u16(),
        message,
    }
}

fn body_message(body: &Value) -> Option<String> {
    match body.get("error") {
        Some(error) => error_message(error),
        None => ["message", "detail"]
            .iter()
            .find_map(|key| body.get(*key).and_then(Value::as_str))
            .map(str::to_owned),
    }
}

fn error_message(error: &Value) -> Option<String> {
    match error {
        Value::String(message) => Some(message.clone()),
        other => other
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// An `{"error": ...}` event inside a 200 stream. A numeric HTTP-like `code` (OpenRouter sends
/// one) makes it a `Status`; otherwise only OpenAI's `server_error` type is worth retrying.
pub(crate) fn stream_error(error: &Value) -> ModelError {
    let message = error_message(error).unwrap_or_else(|| truncate(&error.to_string(), 500));
    let status = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|code| u16::try_from(code).ok())
        .filter(|code| (400..600).contains(code));
    match status {
        Some(status) => ModelError::Status { status, message },
        None => ModelError::Other {
            retryable: error.get("type").and_then(Value::as_str) == Some("server_error"),
            message: format!("the model provider reported an error mid-stream: {message}"),
        },
    }
}

/// The request could not be sent or its answer not received.
pub(crate) fn connection_error(error: &reqwest::Error) -> ModelError {
    ModelError::Connection(describe(error))
}

/// An error with its causes, which reqwest keeps out of its own `Display`.
pub(crate) fn describe(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

pub(crate) fn truncate(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use serde_json::json;

    fn message(error: ModelError) -> String {
        match error {
            ModelError::Status { message, .. } | ModelError::Other { message, .. } => message,
            other => other.to_string(),
        }
    }

    #[test]
    fn reads_every_error_body_form() {
        let openai = r#"{"error":{"message":"Invalid model","type":"invalid_request_error","param":null,"code":null}}"#;
        assert_eq!(
            message(status_error(StatusCode::BAD_REQUEST, openai)),
            "Invalid model"
        );
        let ollama = r#"{"error":"model \"x\" not found"}"#;
        assert_eq!(
            message(status_error(StatusCode::NOT_FOUND, ollama)),
            "model \"x\" not found"
        );
        let detail = r#"{"detail":"Not Found"}"#;
        assert_eq!(
            message(status_error(StatusCode::NOT_FOUND, detail)),
            "Not Found"
        );
        assert_eq!(
            message(status_error(
                StatusCode::BAD_GATEWAY,
                "<html>bad gateway</html>"
            )),
            "<html>bad gateway</html>"
        );
        assert_eq!(
            message(status_error(StatusCode::TOO_MANY_REQUESTS, "")),
            "Too Many Requests"
        );
    }

    #[test]
    fn stream_errors_keep_their_retryability() {
        let openrouter = stream_error(&json!({"code": 502, "message": "upstream failed"}));
        assert!(matches!(
            &openrouter,
            ModelError::Status { status: 502, .. }
        ));
        assert!(openrouter.is_retryable());
        let server = stream_error(&json!({"message": "oops", "type": "server_error"}));
        assert!(server.is_retryable());
        let content =
            stream_error(&json!({"message": "no", "type": "invalid_request_error", "code": "bad"}));
        assert!(!content.is_retryable());
        assert!(message(content).ends_with(": no"));
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("ééé", 3), "é…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
