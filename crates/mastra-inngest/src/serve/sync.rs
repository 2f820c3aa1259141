//! `PUT`: register this app's functions with Inngest (`POST {api}/fn/register`).

use super::{respond, ServeState};
use crate::client::SDK_NAME;
use crate::register::RegisterRequest;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

pub(super) async fn sync(
    State(state): State<Arc<ServeState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let config = state.inngest.config();
    let origin = match &config.serve_origin {
        Some(origin) => origin.clone(),
        None => {
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    let serve_url = format!("{origin}{}", config.serve_path);
    let body = RegisterRequest::new(config, &serve_url, SDK_NAME, &state.ordered);
    let expected_kind = headers
        .get("x-inngest-server-kind")
        .and_then(|h| h.to_str().ok());
    let registered = state
        .inngest
        .register(
            &body,
            query.get("deployId").map(String::as_str),
            expected_kind,
        )
        .await;
    let mut response = match registered {
        Ok(answer) => respond(
            StatusCode::OK,
            &json!({"message": "Successfully registered", "modified": answer.modified}),
            None,
        ),
        Err(error) => {
            tracing::warn!(%error, "syncing with Inngest failed");
            respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"message": error.to_string(), "modified": false}),
                None,
            )
        }
    };
    response.headers_mut().insert(
        "x-inngest-sync-kind",
        HeaderValue::from_static("out_of_band"),
    );
    response
}
