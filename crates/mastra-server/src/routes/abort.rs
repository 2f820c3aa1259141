//! `POST /api/agents/:agentId/abort` `{runId}`: aborts a run wherever it executes (here, or
//! through `agent.control.<runId>` in another process); a paused run is finished as aborted.
//! The run's observers receive its `finish` with reason `abort`.
//!
//! Answers `{"runId": .., "status": "aborting"}` (200); 404 for an unknown run (or another
//! resource's); 409 for a run whose log already ends with its terminal event.

use super::{has_finished, AppState, RunPresence};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::request::{JsonBody, RunRequest};
use axum::extract::{Path, State};
use axum::{Extension, Json};
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
