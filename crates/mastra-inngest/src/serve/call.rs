//! `POST ?fnId=..&stepId=..`: a Call Request, answered `200`, `206` with opcodes, `400`
//! (non-retriable) or `500` (retriable).

use super::{check_signature, internal_error, respond, ServeState, Signed};
use crate::execute::{execute, Outcome};
use crate::{CallRequest, Event, Inngest, InngestError, Mode};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) async fn call(
    State(state): State<Arc<ServeState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inngest = &state.inngest;
    match check_signature(inngest, &headers, &body) {
        Signed::Valid => {}
        Signed::Invalid => return internal_error("SignatureError", "invalid signature"),
        Signed::Unsigned if inngest.config().mode == Mode::Cloud => {
            return internal_error("SignatureError", "a signature is required in cloud mode")
        }
        Signed::Unsigned => {}
    }
    let Some(fn_id) = query.get("fnId") else {
        return internal_error("BadRequest", "missing fnId");
    };
    let Some(function) = state.functions.get(fn_id) else {
        return internal_error("FunctionNotFound", format!("no function {fn_id:?}"));
    };
    let mut request: CallRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return internal_error("BadRequest", format!("malformed Call Request: {error}"))
        }
    };
    if request.needs_api() {
        if let Err(error) = fetch_trimmed(inngest, &mut request).await {
            return internal_error(
                "ApiError",
                format!("cannot fetch the run's payload: {error}"),
            );
        }
    }
    let target = query
        .get("stepId")
        .map(String::as_str)
        .filter(|id| *id != "step" && !id.is_empty());
    match execute(function, request, target).await {
        Outcome::Done(Ok(output)) => respond(StatusCode::OK, &output, None),
        Outcome::Done(Err(error)) if error.non_retriable => {
            respond(StatusCode::BAD_REQUEST, &error, Some(true))
        }
        Outcome::Done(Err(error)) => {
            respond(StatusCode::INTERNAL_SERVER_ERROR, &error, Some(false))
        }
        Outcome::Steps(opcodes) => {
            let no_retry = opcodes
                .iter()
                .filter_map(|op| op.no_retry())
                .reduce(|a, b| a || b);
            respond(StatusCode::PARTIAL_CONTENT, &opcodes, no_retry)
        }
    }
}

/// `use_api`: the server trimmed the body; fetch the events and the memoized steps.
async fn fetch_trimmed(inngest: &Inngest, request: &mut CallRequest) -> Result<(), InngestError> {
    let run_id = &request.ctx.run_id;
    let events = inngest.api_get(&format!("/v0/runs/{run_id}/batch")).await?;
    let steps = inngest
        .api_get(&format!("/v0/runs/{run_id}/actions"))
        .await?;
    let events: Vec<Event> = serde_json::from_value(events)?;
    let steps: Map<String, Value> = serde_json::from_value(steps)?;
    request.event = events.first().cloned();
    request.events = events;
    request.steps = steps;
    Ok(())
}
