//! The `/api` routes (wire-contract §6) and what they share: the registry, the config and
//! the run owners.

pub(crate) mod abort;
pub(crate) mod agents;
pub(crate) mod approval;
pub(crate) mod generate;
pub(crate) mod metrics;
pub(crate) mod observe;
pub(crate) mod stream;

use crate::auth::Principal;
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::request::ScopeFields;
use crate::scope::{acting_resource, RunOwner, RunOwners};
use crate::sse::sse_response;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use futures::stream::BoxStream;
use mastra_durable::{DurableAgent, Mastra, RegisteredAgent};
use std::sync::Arc;

/// What every handler reads.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) mastra: Mastra,
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) owners: Arc<RunOwners>,
}

impl AppState {
    pub(crate) fn new(mastra: Mastra, config: ServerConfig) -> Self {
        Self {
            owners: Arc::new(RunOwners::new(config.max_tracked_runs)),
            config: Arc::new(config),
            mastra,
        }
    }

    pub(crate) fn registered(&self, agent_id: &str) -> Result<&RegisteredAgent, ApiError> {
        self.mastra
            .get(agent_id)
            .ok_or_else(|| ApiError::unknown_agent(agent_id))
    }

    /// The durable agent `agent_id`: 404 when unknown, 400 when it is a plain agent.
    pub(crate) fn durable(&self, agent_id: &str) -> Result<&DurableAgent, ApiError> {
        match self.registered(agent_id)? {
            RegisteredAgent::Durable(durable) => Ok(durable),
            RegisteredAgent::Plain(_) => Err(ApiError::not_durable(agent_id)),
        }
    }

    /// The resource the request acts for.
    pub(crate) fn resource(
        &self,
        principal: &Principal,
        scope: &ScopeFields,
    ) -> Result<Option<String>, ApiError> {
        let named = scope.resource(self.config.resource_context_key.as_deref());
        acting_resource(principal.resource.as_deref(), named)
    }

    /// Claims `run_id` for a new run of `agent_id`: 409 when this server already knows it.
    pub(crate) fn claim(
        &self,
        run_id: &str,
        agent_id: &str,
        resource: Option<String>,
    ) -> Result<(), ApiError> {
        let owner = RunOwner {
            agent_id: agent_id.to_owned(),
            resource,
        };
        if self.owners.claim(run_id, owner) {
            Ok(())
        } else {
            Err(ApiError::conflict(format!("run `{run_id}` already exists")))
        }
    }

    /// Checks that the request may reach `run_id` and that the run exists (404 otherwise).
    pub(crate) async fn reach_run(
        &self,
        durable: &DurableAgent,
        run_id: &str,
        resource: Option<&str>,
    ) -> Result<RunPresence, ApiError> {
        if run_id.is_empty() {
            return Err(ApiError::bad_request("runId must not be empty"));
        }
        self.owners.check(durable, run_id, resource).await?;
        if durable.run_status(run_id).await?.is_some() {
            return Ok(RunPresence::Active);
        }
        let logged = durable.context().channel.log_len(run_id).await?;
        if logged == 0 {
            return Err(ApiError::unknown_run(run_id));
        }
        Ok(RunPresence::Logged)
    }

    pub(crate) fn sse(&self, frames: BoxStream<'static, Bytes>) -> Response {
        sse_response(frames, self.config.heartbeat, &self.config.shutdown)
    }
}

/// Whether the run's last logged event is terminal (its log is complete).
pub(crate) async fn has_finished(durable: &DurableAgent, run_id: &str) -> Result<bool, ApiError> {
    let len = durable.context().channel.log_len(run_id).await?;
    let Some(last) = len.checked_sub(1) else {
        return Ok(false);
    };
    let mut events = durable.observe(run_id, last).await?;
    match futures::StreamExt::next(&mut events).await {
        Some(Ok(event)) => Ok(event.is_terminal()),
        _ => Ok(false),
    }
}

/// How a run was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunPresence {
    /// Executing here, or paused.
    Active,
    /// Only its log is here: it finished, or it executes in another process.
    Logged,
}

/// The `/api` routes, without authentication or outer layers.
pub(crate) fn api_routes(state: AppState) -> Router {
    let agent = "/agents/{agent_id}";
    Router::new()
        .route("/agents", get(agents::list))
        .route("/metrics", get(metrics::metrics))
        .route(agent, get(agents::details))
        .route(&format!("{agent}/generate"), post(generate::generate))
        .route(&format!("{agent}/stream"), post(stream::stream))
        .route(
            &format!("{agent}/observe"),
            post(observe::observe).get(observe::observe_browser),
        )
        .route(&format!("{agent}/resume-stream"), post(approval::resume))
        .route(
            &format!("{agent}/approve-tool-call"),
            post(approval::approve),
        )
        .route(
            &format!("{agent}/decline-tool-call"),
            post(approval::decline),
        )
        .route(&format!("{agent}/abort"), post(abort::abort))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            )
        })
        .with_state(state)
}
