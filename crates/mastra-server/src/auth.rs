//! Bearer-token authentication: with tokens configured, every `/api` request needs
//! `Authorization: Bearer <token>`; without it, or with a wrong one, the answer is 401 JSON.

use crate::config::ApiToken;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Who made the request: the resource its token is bound to, if any.
#[derive(Debug, Clone, Default)]
pub(crate) struct Principal {
    pub(crate) resource: Option<String>,
}

/// The middleware: checks the token and records the [`Principal`] in the request.
pub(crate) async fn require_token(
    State(tokens): State<Arc<Vec<ApiToken>>>,
    mut request: Request,
    next: Next,
) -> Response {
    if tokens.is_empty() {
        request.extensions_mut().insert(Principal::default());
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer);
    let Some(presented) = presented else {
        return ApiError::unauthorized("missing bearer token").into_response();
    };
    // Compare with every token (no early exit), in time independent of where they differ.
    let mut matched = None;
    for token in tokens.iter() {
        if constant_time_eq(token.token.as_bytes(), presented.as_bytes()) && matched.is_none() {
            matched = Some(token);
        }
    }
    match matched {
        Some(token) => {
            request.extensions_mut().insert(Principal {
                resource: token.resource.clone(),
            });
            next.run(request).await
        }
        None => ApiError::unauthorized("invalid bearer token").into_response(),
    }
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_values_are_parsed() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
