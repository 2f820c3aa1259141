//! `GET /api/agents` and `GET /api/agents/:agentId`: what each agent is and which tools it has.

use super::AppState;
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::Json;
use mastra_durable::RegisteredAgent;
use serde_json::{json, Map, Value};

/// `agentId -> details`, for every registered agent.
pub(crate) async fn list(State(state): State<AppState>) -> Json<Map<String, Value>> {
    let agents = state
        .mastra
        .agents()
        .map(|(id, agent)| (id.to_owned(), describe(id, agent)))
        .collect();
    Json(agents)
}

/// One agent's details.
pub(crate) async fn details(
    State(state): State<AppState>,
    Path(agent_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let agent = state.registered(&agent_id)?;
    Ok(Json(describe(&agent_id, agent)))
}

/// The details upstream's `GET /api/agents` gives (name, instructions, tools by id, the
/// model), plus whether the agent is durable (its runs can be observed and resumed).
fn describe(id: &str, registered: &RegisteredAgent) -> Value {
    let agent = registered.agent();
    let tools: Map<String, Value> = agent
        .tool_ids()
        .into_iter()
        .filter_map(|tool_id| agent.tool(tool_id))
        .map(|tool| {
            let details = json!({
                "id": tool.id(),
                "description": tool.description(),
                "inputSchema": tool.input_schema(),
                "requireApproval": tool.require_approval(),
            });
            (tool.id().to_owned(), details)
        })
        .collect();
    let resumable = match registered {
        RegisteredAgent::Durable(durable) => durable.context().channel.is_resumable(),
        RegisteredAgent::Plain(_) => false,
    };
    json!({
        "id": id,
        "name": agent.name(),
        "instructions": agent.instructions(),
        "tools": tools,
        "provider": agent.model().provider(),
        "modelId": agent.model().model_id(),
        "durable": matches!(registered, RegisteredAgent::Durable(_)),
        "resumable": resumable,
    })
}
