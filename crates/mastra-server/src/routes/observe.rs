//! Observing a run's envelopes (wire-contract §2) from an index:
//!
//! - `POST /api/agents/:agentId/observe` `{runId, offset?}`: `data:` blocks ending with
//!   `[DONE]`, the framing `@mastra/client-js` reads;
//! - `GET /api/agents/:agentId/observe?runId=..&offset=..`: standard SSE with `id: <index>`
//!   lines, for `EventSource`. A `Last-Event-ID` header (sent by `EventSource` when it
//!   reconnects) wins over `offset`: the browser repeats the original URL, and the header
//!   says how far it got. It resumes at that index + 1.
//!
//! Both close after the terminal envelope, or after the configured idle time without an
//! event (5 minutes). An unknown run is 404 at once; an offset at or past the end of a
//! finished run ends the POST stream at once, and answers the GET route with 204 No Content,
//! which tells `EventSource` to stop reconnecting (it reconnects after every close).

use super::{has_finished, AppState, RunPresence};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::frames::{envelope_frames, EnvelopeFraming};
use crate::request::{parse_offset, JsonBody, ObserveRequest, ScopeFields};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::StreamExt;
use mastra_durable::agent::EventStream;
use mastra_durable::{DurableAgent, DurableError};
use serde::Deserialize;
use std::time::Duration;

pub(crate) async fn observe(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(agent_id): Path<String>,
    JsonBody(body): JsonBody<ObserveRequest>,
) -> Result<Response, ApiError> {
    let offset = parse_offset(body.offset.as_ref())?;
    let resource = state.resource(&principal, &body.scope)?;
    let durable = state.durable(&agent_id)?;
    state
        .reach_run(durable, &body.run_id, resource.as_deref())
        .await?;
    let events = open(&state, durable, &body.run_id, offset).await?;
    Ok(state.sse(envelope_frames(events, EnvelopeFraming::DataOnly)))
}

/// The query of the browser route.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObserveQuery {
    run_id: String,
    #[serde(default)]
    offset: Option<String>,
    #[serde(default)]
    resource_id: Option<String>,
}

pub(crate) async fn observe_browser(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(agent_id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<ObserveQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let last_event_id = headers
        .get("last-event-id")
        .map(|value| value.to_str().unwrap_or("-"));
    let offset = match (last_event_id, query.offset.as_deref()) {
        (Some(last), _) => parse_index(last, "Last-Event-ID")?
            .checked_add(1)
            .ok_or_else(|| ApiError::bad_request("Last-Event-ID is too large"))?,
        (None, Some(offset)) => parse_index(offset, "offset")?,
        (None, None) => 0,
    };
    let scope = ScopeFields::with_resource(query.resource_id);
    let resource = state.resource(&principal, &scope)?;
    let durable = state.durable(&agent_id)?;
    let presence = state
        .reach_run(durable, &query.run_id, resource.as_deref())
        .await?;
    if presence == RunPresence::Logged {
        let logged = durable.context().channel.log_len(&query.run_id).await?;
        if offset >= logged && has_finished(durable, &query.run_id).await? {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
    }
    let events = open(&state, durable, &query.run_id, offset).await?;
    Ok(state.sse(envelope_frames(events, EnvelopeFraming::WithIds)))
}

fn parse_index(text: &str, what: &str) -> Result<u64, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{what} must be a non-negative integer")))
}

/// The run's envelopes from `offset`, once the request was allowed to reach the run.
async fn open(
    state: &AppState,
    durable: &DurableAgent,
    run_id: &str,
    offset: u64,
) -> Result<EventStream, ApiError> {
    let events = durable.observe(run_id, offset).await?;
    Ok(with_idle_timeout(events, state.config.observe_idle, run_id))
}

/// Ends the stream with [`DurableError::IdleTimeout`] when no event comes for `idle`.
fn with_idle_timeout(events: EventStream, idle: Duration, run_id: &str) -> EventStream {
    let topic = mastra_durable::agent_stream_topic(run_id);
    futures::stream::unfold(Some((events, topic)), move |state| async move {
        let (mut events, topic) = state?;
        match tokio::time::timeout(idle, events.next()).await {
            Ok(Some(item)) => Some((item, Some((events, topic)))),
            Ok(None) => None,
            Err(_) => Some((Err(DurableError::IdleTimeout { topic, idle }), None)),
        }
    })
    .boxed()
}
