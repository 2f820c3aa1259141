//! The serve endpoint: one URL, where `GET` is introspection, `PUT` a sync and `POST` a
//! Call Request.

mod call;
mod introspect;
mod sync;

use crate::client::{FRAMEWORK, SDK_NAME};
use crate::signature::verify;
use crate::{Inngest, InngestFunction, Mode};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// What every handler of the endpoint shares.
#[derive(Debug)]
pub(crate) struct ServeState {
    pub(crate) inngest: Inngest,
    /// By composite id.
    pub(crate) functions: HashMap<String, InngestFunction>,
    /// In registration order, for the sync body.
    pub(crate) ordered: Vec<InngestFunction>,
}

/// An axum router serving `functions` at the configured serve path (`/api/inngest` by
/// default); merge it into the application's router.
pub fn serve(inngest: &Inngest, functions: Vec<InngestFunction>) -> Router {
    let path = inngest.config().serve_path.clone();
    let state = Arc::new(ServeState {
        functions: functions
            .iter()
            .map(|f| (inngest.config().function_id(&f.id), f.clone()))
            .collect(),
        ordered: functions,
        inngest: inngest.clone(),
    });
    Router::new()
        .route(
            &path,
            get(introspect::introspect).put(sync::sync).post(call::call),
        )
        .with_state(state)
}

/// A JSON response with the headers the executor requires on every answer.
pub(crate) fn respond(
    status: StatusCode,
    body: &impl Serialize,
    no_retry: Option<bool>,
) -> Response {
    let body = serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec());
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-inngest-sdk", HeaderValue::from_static(SDK_NAME));
    headers.insert("x-inngest-req-version", HeaderValue::from_static("2"));
    headers.insert("x-inngest-framework", HeaderValue::from_static(FRAMEWORK));
    if let Some(no_retry) = no_retry {
        let value = if no_retry { "true" } else { "false" };
        headers.insert("x-inngest-no-retry", HeaderValue::from_static(value));
    }
    response
}

/// A `500` the server may retry.
pub(crate) fn internal_error(name: &str, message: impl std::fmt::Display) -> Response {
    let body = json!({"name": name, "message": message.to_string()});
    respond(StatusCode::INTERNAL_SERVER_ERROR, &body, Some(false))
}

/// How a request's signature checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signed {
    /// No signature was sent (or dev mode had no key to check it with).
    Unsigned,
    Valid,
    Invalid,
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Checks `X-Inngest-Signature`. Dev mode checks only a signature that is present when a
/// key is set; the server kind header never decides.
pub(crate) fn check_signature(inngest: &Inngest, headers: &HeaderMap, body: &[u8]) -> Signed {
    let config = inngest.config();
    let header = headers
        .get("x-inngest-signature")
        .and_then(|v| v.to_str().ok());
    let Some(header) = header else {
        return Signed::Unsigned;
    };
    if config.mode == Mode::Dev && config.signing_key.is_none() {
        return Signed::Unsigned;
    }
    let checked = verify(
        header,
        body,
        config.signing_key.as_deref(),
        config.signing_key_fallback.as_deref(),
        now_secs(),
    );
    match checked {
        Ok(()) => Signed::Valid,
        Err(error) => {
            tracing::warn!(%error, "rejected an Inngest request signature");
            Signed::Invalid
        }
    }
}
