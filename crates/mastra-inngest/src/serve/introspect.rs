//! `GET`: introspection, with more detail for a correctly signed request.

use super::{check_signature, respond, ServeState, Signed};
use crate::client::SDK_NAME;
use crate::signature::hash_signing_key;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub(super) async fn introspect(
    State(state): State<Arc<ServeState>>,
    headers: HeaderMap,
) -> Response {
    let config = state.inngest.config();
    let signed = check_signature(&state.inngest, &headers, b"");
    let mut body = json!({
        "schema_version": "2024-05-24",
        "authentication_succeeded": match signed {
            Signed::Unsigned => Value::Null,
            Signed::Valid => Value::Bool(true),
            Signed::Invalid => Value::Bool(false),
        },
        "function_count": state.functions.len(),
        "has_event_key": config.event_key.is_some(),
        "has_signing_key": config.signing_key.is_some(),
        "has_signing_key_fallback": config.signing_key_fallback.is_some(),
        "mode": config.mode.as_str(),
    });
    if signed == Signed::Valid {
        let hash_key = |key: &Option<String>| key.as_deref().and_then(|k| hash_signing_key(k).ok());
        let extra = json!({
            "api_origin": config.api_origin,
            "app_id": config.app_id,
            "env": config.env,
            "event_api_origin": config.event_api_origin,
            "event_key_hash": config.event_key.as_deref().map(|k| hex::encode(Sha256::digest(k.as_bytes()))),
            "framework": super::FRAMEWORK,
            "sdk_language": "rust",
            "sdk_version": SDK_NAME.rsplit(":v").next().unwrap_or_default(),
            "serve_origin": config.serve_origin,
            "serve_path": config.serve_path,
            "signing_key_hash": hash_key(&config.signing_key),
            "signing_key_fallback_hash": hash_key(&config.signing_key_fallback),
        });
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
            body.extend(extra);
        }
    }
    respond(StatusCode::OK, &body, None)
}
