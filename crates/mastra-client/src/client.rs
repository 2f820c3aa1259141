//! `MastraClient`: the connection settings and the routes that answer JSON.

use crate::error::ClientError;
use crate::request::{AbortAnswer, AgentDetails, AgentRequest};
use crate::retry::RetryPolicy;
use crate::sse::{sse_items, SseItem};
use futures::stream::{BoxStream, StreamExt};
use mastra_core::AgentOutput;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long an SSE response may stay silent before the connection counts as lost (the
/// server sends a heartbeat every 15 s). JSON answers (`generate`) have no such limit.
pub const DEFAULT_STREAM_IDLE: Duration = Duration::from_secs(45);

/// A client of a Mastra server's `/api` agent routes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MastraClient {
    http: reqwest::Client,
    api: String,
    token: Option<String>,
    pub(crate) retry: RetryPolicy,
    stream_idle: Duration,
}

impl MastraClient {
    /// A client of the server at `base_url` (`http://127.0.0.1:4111`; a trailing `/api` is
    /// accepted too), with the default [`RetryPolicy`].
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|error| ClientError::Url(error.to_string()))?;
        Self::with_http_client(base_url, http)
    }

    /// A client that sends its requests through `http`.
    pub fn with_http_client(base_url: &str, http: reqwest::Client) -> Result<Self, ClientError> {
        let base = base_url.trim_end_matches('/');
        if reqwest::Url::parse(base).is_err() {
            return Err(ClientError::Url(base_url.to_owned()));
        }
        let api = match base.ends_with("/api") {
            true => base.to_owned(),
            false => format!("{base}/api"),
        };
        Ok(Self {
            http,
            api,
            token: None,
            retry: RetryPolicy::default(),
            stream_idle: DEFAULT_STREAM_IDLE,
        })
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// How the resumable streams reconnect.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long a stream may go without a byte (not even a heartbeat) before it counts as
    /// lost and the resumable streams reconnect (default [`DEFAULT_STREAM_IDLE`]).
    pub fn with_stream_idle(mut self, idle: Duration) -> Self {
        self.stream_idle = idle;
        self
    }

    /// The `/api` URL this client talks to.
    pub fn api_url(&self) -> &str {
        &self.api
    }

    /// `GET /api/agents`: every agent by id.
    pub async fn list_agents(&self) -> Result<BTreeMap<String, AgentDetails>, ClientError> {
        self.get_json("/agents").await
    }

    /// `GET /api/agents/:agentId`.
    pub async fn agent(&self, agent_id: &str) -> Result<AgentDetails, ClientError> {
        self.get_json(&agent_path(agent_id, "")).await
    }

    /// `POST /api/agents/:agentId/generate`: runs to the end (or to a pause, with finish
    /// reason `suspended`) and returns the whole output.
    pub async fn generate(
        &self,
        agent_id: &str,
        request: &AgentRequest,
    ) -> Result<AgentOutput, ClientError> {
        self.post_json(&agent_path(agent_id, "/generate"), request)
            .await
    }

    /// `POST /api/agents/:agentId/abort` `{runId}`.
    pub async fn abort(&self, agent_id: &str, run_id: &str) -> Result<AbortAnswer, ClientError> {
        let body = serde_json::json!({ "runId": run_id });
        self.post_json(&agent_path(agent_id, "/abort"), &body).await
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let request = self.authorized(self.http.get(format!("{}{path}", self.api)));
        decode(checked(request.send().await?).await?).await
    }

    async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        decode(self.post(path, body).await?).await
    }

    /// POSTs `body` and returns the SSE items of a successful answer.
    pub(crate) async fn post_sse(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<BoxStream<'static, Result<SseItem, ClientError>>, ClientError> {
        let response = self.post(path, body).await?;
        Ok(sse_items(response.bytes_stream().boxed(), self.stream_idle))
    }

    async fn post(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<reqwest::Response, ClientError> {
        let request = self.http.post(format!("{}{path}", self.api)).json(body);
        checked(self.authorized(request).send().await?).await
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }
}

/// `/agents/<id><rest>`, with the id percent-encoded.
pub(crate) fn agent_path(agent_id: &str, rest: &str) -> String {
    let mut url = match reqwest::Url::parse("http://x/agents/") {
        Ok(url) => url,
        Err(_) => return format!("/agents/{agent_id}{rest}"),
    };
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(agent_id);
    }
    format!("{}{rest}", url.path())
}

/// The response, or its `{"error": ..}` as a [`ClientError::Status`].
async fn checked(response: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(ClientError::from_body(status, &body))
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
    let bytes = response.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|error| ClientError::Decode(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let client = MastraClient::new("http://127.0.0.1:4111/").unwrap();
        assert_eq!(client.api_url(), "http://127.0.0.1:4111/api");
        let client = MastraClient::new("http://h:1/api").unwrap();
        assert_eq!(client.api_url(), "http://h:1/api");
        assert!(MastraClient::new("not a url").is_err());
        assert_eq!(
            agent_path("demo-agent", "/stream"),
            "/agents/demo-agent/stream"
        );
        assert_eq!(agent_path("a b/c", ""), "/agents/a%20b%2Fc");
    }
}
