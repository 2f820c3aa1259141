//! `POST /api/agents/:agentId/generate`: runs to the end and answers the whole output as JSON.
//! A durable run that pauses for an approval or resume data answers at the pause, with
//! `finishReason: "suspended"` and its `runId`, to be continued with the approval routes.

use super::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::request::{AgentRequest, JsonBody};
use crate::routes::stream::{start_durable, with_trace_context};
use crate::run_stream::{run_chunks, run_output};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use mastra_core::AgentOutput;
use mastra_durable::RegisteredAgent;

pub(crate) async fn generate(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(agent_id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AgentRequest>,
) -> Result<Json<AgentOutput>, ApiError> {
    let resource = state.resource(&principal, &body.scope)?;
    let options = with_trace_context(body.options(resource)?, &headers);
    let output = match state.registered(&agent_id)? {
        RegisteredAgent::Plain(agent) => agent.generate(body.messages, options).await?,
        RegisteredAgent::Durable(durable) => {
            let (thread_id, resource_id) = (options.thread_id.clone(), options.resource_id.clone());
            let stream = start_durable(&state, durable, body.messages, options).await?;
            let run_id = stream.run_id().to_owned();
            let chunks = run_chunks(durable, stream, 0).await?;
            let mut output = run_output(durable, &run_id, chunks).await?;
            output.thread_id = output.thread_id.or(thread_id);
            output.resource_id = output.resource_id.or(resource_id);
            output
        }
    };
    Ok(Json(output))
}
