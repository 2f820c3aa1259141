//! Errors of this crate, and how an Upstash failure maps onto the cache contract's
//! retryable/terminal errors.

use mastra_cache::CacheError;

/// Talking to Upstash failed, or the settings to reach it are unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstashError {
    /// The configuration is unusable: a missing variable, a non-TLS URL, an empty token
    /// (terminal).
    #[error("invalid Upstash configuration: {0}")]
    Config(String),
    /// Upstash refused the token (HTTP 401 or 403; terminal).
    #[error(
        "Upstash refused the token (HTTP {status}): {message}; check UPSTASH_REDIS_REST_TOKEN \
         (a read-only token cannot write)"
    )]
    Unauthorized {
        /// The HTTP status.
        status: u16,
        /// What Upstash said.
        message: String,
    },
    /// Redis refused the command (an `{"error": ...}` answer), e.g. `WRONGTYPE ...`.
    /// Retryable only for the replies Redis gives while it cannot serve for a moment
    /// (`LOADING`, `BUSY`, `TRYAGAIN`, `MASTERDOWN`, ...).
    #[error("Upstash refused `{command}`: {message}")]
    Command {
        /// The command's name.
        command: String,
        /// The error reply.
        message: String,
    },
    /// The request body was refused as too large (HTTP 413; terminal). Upstash limits the
    /// size of one request per plan.
    #[error("Upstash refused a request of {bytes} bytes as too large (HTTP 413)")]
    RequestTooLarge {
        /// The size of the refused body.
        bytes: usize,
    },
    /// The response is larger than [`UpstashConfig::max_response_bytes`](crate::UpstashConfig)
    /// (terminal: the same request would get the same answer).
    #[error("the Upstash response is larger than the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The response is not in Upstash's documented format (terminal).
    #[error("malformed Upstash response: {0}")]
    Malformed(String),
    /// An HTTP status other than the above. Retryable for 408, 429 and 5xx.
    #[error("Upstash answered HTTP {status}: {message}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The body, shortened.
        message: String,
    },
    /// Upstash could not be reached, or the request timed out (retryable).
    #[error("cannot reach Upstash: {0}")]
    Transport(String),
}

impl UpstashError {
    /// Whether the same request may succeed if made again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Http { status, .. } => matches!(status, 408 | 429 | 500..=599),
            Self::Command { message, .. } => transient_reply(message),
            Self::Config(_)
            | Self::Unauthorized { .. }
            | Self::RequestTooLarge { .. }
            | Self::ResponseTooLarge { .. }
            | Self::Malformed(_) => false,
        }
    }

    /// Whether this is Redis's `WRONGTYPE` reply (also when a script ran into it).
    pub fn is_wrong_type(&self) -> bool {
        matches!(self, Self::Command { message, .. } if message.contains("WRONGTYPE"))
    }
}

/// The error replies Redis gives while it cannot serve for a moment.
fn transient_reply(message: &str) -> bool {
    const TRANSIENT: [&str; 6] = [
        "LOADING",
        "BUSY",
        "TRYAGAIN",
        "CLUSTERDOWN",
        "MASTERDOWN",
        "READONLY",
    ];
    TRANSIENT.iter().any(|reply| message.starts_with(reply))
}

/// Maps a failed request about `key` to the cache contract's error.
pub(crate) fn cache_error(key: &str, expected: &'static str, error: UpstashError) -> CacheError {
    if error.is_wrong_type() {
        CacheError::WrongType {
            key: key.to_owned(),
            expected,
        }
    } else if error.is_retryable() {
        CacheError::Unavailable(error.to_string())
    } else {
        CacheError::backend(error, false)
    }
}

/// At most `max` characters of `text`, for messages.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_keep_their_retryability() {
        let down = UpstashError::Transport("connection refused".into());
        assert!(cache_error("k", "value", down).is_retryable());
        for status in [429, 500, 502, 503] {
            let http = UpstashError::Http {
                status,
                message: String::new(),
            };
            assert!(cache_error("k", "value", http).is_retryable(), "{status}");
        }
        let not_found = UpstashError::Http {
            status: 404,
            message: String::new(),
        };
        assert!(!cache_error("k", "value", not_found).is_retryable());
        let auth = UpstashError::Unauthorized {
            status: 401,
            message: "Unauthorized".into(),
        };
        assert!(!cache_error("k", "value", auth).is_retryable());
        let large = UpstashError::RequestTooLarge { bytes: 10 };
        assert!(!cache_error("k", "value", large).is_retryable());
        let loading = UpstashError::Command {
            command: "GET".into(),
            message: "LOADING Redis is loading the dataset in memory".into(),
        };
        assert!(cache_error("k", "value", loading).is_retryable());
        let wrong = UpstashError::Command {
            command: "EVAL".into(),
            message: "ERR Error running script: WRONGTYPE Operation against a key".into(),
        };
        assert!(matches!(
            cache_error("k", "list", wrong),
            CacheError::WrongType {
                expected: "list",
                ..
            }
        ));
        let syntax = UpstashError::Command {
            command: "SET".into(),
            message: "ERR syntax error".into(),
        };
        assert!(!cache_error("k", "value", syntax).is_retryable());
    }

    #[test]
    fn long_texts_are_shortened_on_a_char_boundary() {
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(shorten("ééééé", 2), "éé...");
    }
}
