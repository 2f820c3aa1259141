//! Answering a paused run, streaming what it does next (SSE of chunks, ending with `[DONE]`):
//!
//! - `POST /api/agents/:agentId/approve-tool-call` `{runId, toolCallId}`
//! - `POST /api/agents/:agentId/decline-tool-call` `{runId, toolCallId}`
//! - `POST /api/agents/:agentId/resume-stream` `{runId, resumeData, toolCallId?}`
//!
//! An unknown run (or another resource's) is 404; a run that is not waiting for this answer
//! (running, finished, or already answered) is 409; an answer that does not fit what the run
//! waits on (an unknown tool call id, approving a suspended call) is 400. The stream starts
//! at the run's next event, so nothing already sent is sent again.

use super::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::frames::chunk_frames;
use crate::request::{JsonBody, RunRequest};
use crate::run_stream::run_chunks;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use mastra_durable::RunAnswer;

pub(crate) async fn approve(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(agent_id): Path<String>,
    JsonBody(body): JsonBody<RunRequest>,
) -> Result<Response, ApiError> {
    let tool_call_id = required_tool_call(&body)?;
    let answer = RunAnswer::Approve { tool_call_id };
    answer_run(&state, &principal, &agent_id, &body, answer).await
}

pub(crate) async fn decline(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(agent_id): Path<String>,
    JsonBody(body): JsonBody<RunRequest>,
) -> Result<Response, ApiError> {
    let tool_call_id = required_tool_call(&body)?;
    let answer = RunAnswer::Decline { tool_call_id };
    answer_run(&state, &principal, &agent_id, &body, answer).await
}

pub(crate) async fn resume(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(agent_id): Path<String>,
    JsonBody(body): JsonBody<RunRequest>,
) -> Result<Response, ApiError> {
    let answer = RunAnswer::Resume {
        tool_call_id: body.tool_call_id.clone().filter(|id| !id.is_empty()),
        data: body.resume_data.clone().unwrap_or_default(),
    };
    answer_run(&state, &principal, &agent_id, &body, answer).await
}

fn required_tool_call(body: &RunRequest) -> Result<String, ApiError> {
    body.tool_call_id
        .clone()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::bad_request("toolCallId is required"))
}

async fn answer_run(
    state: &AppState,
    principal: &Principal,
    agent_id: &str,
    body: &RunRequest,
    answer: RunAnswer,
) -> Result<Response, ApiError> {
    let durable = state.durable(agent_id)?;
    let resource = state.resource(principal, &body.scope)?;
    state
        .reach_run(durable, &body.run_id, resource.as_deref())
        .await?;
    // A paused run writes nothing: what it writes once answered starts at this index.
    let offset = durable.context().channel.log_len(&body.run_id).await?;
    let stream = durable
        .continue_run(&body.run_id, answer, Default::default())
        .await?;
    let chunks = run_chunks(durable, stream, offset).await?;
    Ok(state.sse(chunk_frames(body.run_id.clone(), chunks)))
}
