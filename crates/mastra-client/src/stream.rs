//! The routes that answer with a run's chunks: `stream` (resumable), and the approval and
//! resume routes (streams that start at an index the client does not know).

use crate::chunks::{ChunkStream, Source};
use crate::client::{agent_path, MastraClient};
use crate::error::ClientError;
use reqwest::StatusCode;
use serde_json::Value;

impl MastraClient {
    /// `POST /api/agents/:agentId/stream`: the run's chunks, resumable (see
    /// [`ChunkStream`]). The run id is the request's `runId`, or a fresh UUID.
    pub async fn stream(
        &self,
        agent_id: &str,
        request: &crate::AgentRequest,
    ) -> Result<ChunkStream, ClientError> {
        let mut request = request.clone();
        let run_id = match request.get_run_id() {
            Some(run_id) => run_id.to_owned(),
            None => {
                let run_id = uuid::Uuid::new_v4().to_string();
                request = request.run_id(run_id.clone());
                run_id
            }
        };
        let body =
            serde_json::to_value(&request).map_err(|e| ClientError::Decode(e.to_string()))?;
        let path = agent_path(agent_id, "/stream");
        // The first request is sent here, so that a caller mistake (400, 404) is an error
        // of this call. A connection failure is retried with the same run id: a 409 then
        // says an earlier attempt did start the run, which is observed from its start.
        let mut failures = 0;
        let source = loop {
            match self.post_sse(&path, &body).await {
                Ok(items) => break Source::Posted(items),
                Err(error) if failures > 0 && error.status() == Some(StatusCode::CONFLICT) => {
                    break Source::Observing(self.observe(agent_id, &run_id, 0));
                }
                Err(error) if error.is_retryable() => {
                    failures += 1;
                    if !self.retry.allows(failures) {
                        return Err(ClientError::RetriesExhausted {
                            attempts: failures,
                            source: Box::new(error),
                        });
                    }
                    tokio::time::sleep(self.retry.backoff(failures)).await;
                }
                Err(error) => return Err(error),
            }
        };
        Ok(self.chunk_stream(agent_id, run_id, Some(body), source))
    }

    /// `POST /api/agents/:agentId/approve-tool-call` `{runId, toolCallId}`: what the run
    /// does next. Not resumable (its first index is not known to the client): after a
    /// loss, [`observe`](Self::observe) the run.
    pub async fn approve_tool_call(
        &self,
        agent_id: &str,
        run_id: &str,
        tool_call_id: &str,
    ) -> Result<ChunkStream, ClientError> {
        let body = serde_json::json!({ "runId": run_id, "toolCallId": tool_call_id });
        self.answer(agent_id, run_id, "/approve-tool-call", body)
            .await
    }

    /// `POST /api/agents/:agentId/decline-tool-call` `{runId, toolCallId}`.
    pub async fn decline_tool_call(
        &self,
        agent_id: &str,
        run_id: &str,
        tool_call_id: &str,
    ) -> Result<ChunkStream, ClientError> {
        let body = serde_json::json!({ "runId": run_id, "toolCallId": tool_call_id });
        self.answer(agent_id, run_id, "/decline-tool-call", body)
            .await
    }

    /// `POST /api/agents/:agentId/resume-stream` `{runId, resumeData, toolCallId?}`.
    pub async fn resume_stream(
        &self,
        agent_id: &str,
        run_id: &str,
        resume_data: Value,
        tool_call_id: Option<&str>,
    ) -> Result<ChunkStream, ClientError> {
        let mut body = serde_json::json!({ "runId": run_id, "resumeData": resume_data });
        if let (Some(id), Some(map)) = (tool_call_id, body.as_object_mut()) {
            map.insert("toolCallId".into(), Value::from(id));
        }
        self.answer(agent_id, run_id, "/resume-stream", body).await
    }

    async fn answer(
        &self,
        agent_id: &str,
        run_id: &str,
        route: &str,
        body: Value,
    ) -> Result<ChunkStream, ClientError> {
        let items = self.post_sse(&agent_path(agent_id, route), &body).await?;
        Ok(self.chunk_stream(agent_id, run_id.to_owned(), None, Source::Posted(items)))
    }
}
