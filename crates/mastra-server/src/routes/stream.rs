//! `POST /api/agents/:agentId/stream`: the run's chunks as SSE `data:` blocks, ending with
//! `[DONE]`. Every chunk carries `runId`, so the client learns the run id from the first one.
//!
//! A durable run does not depend on the connection: a client that hangs up detaches, and
//! the run goes on and can be observed from any index. The response ends when the run
//! pauses for an approval or resume data (see [`crate::run_stream`]). A plain agent's run
//! stops when its client hangs up (nothing else could read it).

use super::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::frames::chunk_frames;
use crate::request::{AgentRequest, JsonBody};
use crate::run_stream::run_chunks;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use futures::StreamExt;
use mastra_core::{MessageInput, StreamOptions};
use mastra_durable::{DurableAgent, DurableStream, RegisteredAgent};
use std::convert::Infallible;

pub(crate) async fn stream(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(agent_id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AgentRequest>,
) -> Result<Response, ApiError> {
    let resource = state.resource(&principal, &body.scope)?;
    let options = with_trace_context(body.options(resource)?, &headers);
    let frames = match state.registered(&agent_id)? {
        RegisteredAgent::Plain(agent) => {
            let chunks = agent.stream(body.messages, options);
            let run_id = chunks.run_id().to_owned();
            chunk_frames(run_id, chunks.map(Ok::<_, Infallible>))
        }
        RegisteredAgent::Durable(durable) => {
            let stream = start_durable(&state, durable, body.messages, options).await?;
            let run_id = stream.run_id().to_owned();
            chunk_frames(run_id, run_chunks(durable, stream, 0).await?)
        }
    };
    Ok(state.sse(frames))
}

/// Starts a durable run under a fresh (or the requested) run id, recorded as owned by the
/// request's agent and resource before the run exists, so no other resource can reach it.
pub(crate) async fn start_durable(
    state: &AppState,
    durable: &DurableAgent,
    messages: MessageInput,
    mut options: StreamOptions,
) -> Result<DurableStream, ApiError> {
    let run_id = options
        .run_id
        .get_or_insert_with(|| uuid::Uuid::new_v4().to_string())
        .clone();
    state.claim(&run_id, durable.id(), options.resource_id.clone())?;
    match durable.stream(messages, options).await {
        Ok(stream) => Ok(stream),
        Err(error) => {
            state.owners.release(&run_id);
            Err(error.into())
        }
    }
}

/// A W3C `traceparent` request header makes the run part of the caller's trace (an invalid
/// one is ignored by the agent, which then starts a trace of its own).
pub(crate) fn with_trace_context(options: StreamOptions, headers: &HeaderMap) -> StreamOptions {
    match headers
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
    {
        Some(traceparent) if options.traceparent.is_none() => options.traceparent(traceparent),
        _ => options,
    }
}
