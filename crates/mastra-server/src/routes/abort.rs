//! `POST /api/agents/:agentId/abort` `{runId}`: aborts a run wherever it executes (here, or
//! through `agent.control.<runId>` in another process); a paused run is finished as aborted.
//! The run's observers receive its `finish` with reason `abort`.
//!
//! Answers `{"runId": .., "status": "aborting"}` (200); 404 for an unknown run (or another
//! resource's); 409 for a run whose log already ends with its terminal event.

use super::{AppState, RunPresence};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::request::{JsonBody, RunRequest};
use axum::extract::{Path, State};
use axum::{Extension, Json};
use futures::StreamExt;
use mastra_durable::DurableAgent;
use serde_json::{json, Value};

pub(crate) async fn abort(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(agent_id): Path<String>,
    JsonBody(body): JsonBody<RunRequest>,
) -> Result<Json<Value>, ApiError> {
    let durable = state.durable(&agent_id)?;
    let resource = state.resource(&principal, &body.scope)?;
    let run_id = &body.run_id;
    let presence = state
        .reach_run(durable, run_id, resource.as_deref())
        .await?;
    if presence == RunPresence::Logged && has_finished(durable, run_id).await? {
        return Err(ApiError::conflict(format!(
            "run `{run_id}` has already finished"
        )));
    }
    durable.abort_run(run_id).await?;
    Ok(Json(json!({ "runId": run_id, "status": "aborting" })))
}

/// Whether the run's last logged event is terminal.
async fn has_finished(durable: &DurableAgent, run_id: &str) -> Result<bool, ApiError> {
    let len = durable.context().channel.log_len(run_id).await?;
    let Some(last) = len.checked_sub(1) else {
        return Ok(false);
    };
    let mut events = durable.observe(run_id, last).await?;
    match events.next().await {
        Some(Ok(event)) => Ok(event.is_terminal()),
        _ => Ok(false),
    }
}
