//! [`OpenAiModel`]: sends the request, retries what is worth retrying, and hands the
//! response body to the stream decoder.

use crate::config::OpenAiConfig;
use crate::error::{connection_error, status_error};
use crate::request::ChatRequest;
use crate::response::model_stream;
use crate::retry::{retry_after, RetryPolicy};
use async_trait::async_trait;
use bytes::Bytes;
use mastra_core::{AbortSignal, LanguageModel, ModelError, ModelRequest, ModelStream};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use std::fmt;
use std::time::Duration;

/// A model served by an OpenAI-compatible Chat Completions API: OpenAI itself, Ollama, vLLM,
/// llama.cpp's server, OpenRouter, LM Studio, ...
///
/// Cheap to clone; clones share the HTTP connection pool.
#[derive(Clone)]
pub struct OpenAiModel {
    model: String,
    provider: String,
    endpoint: reqwest::Url,
    headers: HeaderMap,
    client: reqwest::Client,
    timeout: Duration,
    stream_idle_timeout: Duration,
    retry: RetryPolicy,
}

/// Why one attempt failed, and how long the server asked us to wait.
struct Failure {
    error: ModelError,
    retry_after: Option<Duration>,
}

impl OpenAiModel {
    /// Starts the settings for `model`; see [`OpenAiConfig`].
    pub fn builder(model: impl Into<String>) -> OpenAiConfig {
        OpenAiConfig::new(model)
    }

    /// A model configured from `OPENAI_BASE_URL` and `OPENAI_API_KEY`. The key may be missing
    /// only when a base URL is set.
    pub fn from_env(model: impl Into<String>) -> Result<Self, ModelError> {
        OpenAiConfig::from_env(model).build()
    }

    pub(crate) fn new(config: OpenAiConfig) -> Result<Self, ModelError> {
        let base = config.base_url.trim_end_matches('/');
        let endpoint = reqwest::Url::parse(&format!("{base}/chat/completions"))
            .map_err(|e| ModelError::Config(format!("invalid base URL `{base}`: {e}")))?;
        let mut headers = HeaderMap::new();
        if let Some(key) = &config.api_key {
            let mut value = HeaderValue::try_from(format!("Bearer {key}"))
                .map_err(|_| ModelError::Config("the API key is not a valid header".into()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        for (name, value) in &config.headers {
            let invalid =
                |what: &str| ModelError::Config(format!("invalid header {what} `{name}`"));
            let name = HeaderName::try_from(name.as_str()).map_err(|_| invalid("name"))?;
            let value = HeaderValue::try_from(value.as_str()).map_err(|_| invalid("value"))?;
            headers.insert(name, value);
        }
        let client = match config.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(config.timeout)
                .build()
                .map_err(|e| ModelError::Config(format!("cannot build the HTTP client: {e}")))?,
        };
        Ok(Self {
            model: config.model,
            provider: config.provider,
            endpoint,
            headers,
            client,
            timeout: config.timeout,
            stream_idle_timeout: config.stream_idle_timeout,
            retry: RetryPolicy {
                max_retries: config.max_retries,
                base_delay: config.retry_base_delay,
                max_delay: config.max_retry_delay,
            },
        })
    }

    /// Sends the request until a streaming answer comes, retrying retryable failures with
    /// backoff. The abort signal ends the wait for an answer and the backoff alike.
    async fn open(
        &self,
        body: Bytes,
        abort: &AbortSignal,
    ) -> Result<reqwest::Response, ModelError> {
        let mut retry = 0;
        loop {
            let attempt = tokio::select! {
                biased;
                _ = abort.aborted() => return Err(ModelError::Aborted),
                attempt = self.attempt(body.clone()) => attempt,
            };
            let failure = match attempt {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            if !failure.error.is_retryable() || retry >= self.retry.max_retries {
                return Err(failure.error);
            }
            let delay = self.retry.delay(retry, failure.retry_after);
            tracing::warn!(
                model = %self.model,
                error = %failure.error,
                retry = retry + 1,
                delay_ms = delay.as_millis() as u64,
                "retrying model call"
            );
            tokio::select! {
                biased;
                _ = abort.aborted() => return Err(ModelError::Aborted),
                _ = tokio::time::sleep(delay) => {}
            }
            retry += 1;
        }
    }

    /// One attempt: a success status gives the response with its body still unread.
    async fn attempt(&self, body: Bytes) -> Result<reqwest::Response, Failure> {
        let send = self
            .client
            .post(self.endpoint.clone())
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send();
        let timed_out = || Failure {
            error: ModelError::Connection(format!("no answer within {:?}", self.timeout)),
            retry_after: None,
        };
        let response = tokio::time::timeout(self.timeout, send)
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| Failure {
                error: connection_error(&e),
                retry_after: None,
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = retry_after(response.headers());
        let text = tokio::time::timeout(self.timeout, response.text())
            .await
            .map_err(|_| timed_out())?
            .unwrap_or_default();
        Err(Failure {
            error: status_error(status, &text),
            retry_after,
        })
    }
}

#[async_trait]
impl LanguageModel for OpenAiModel {
    fn provider(&self) -> &str {
        &self.provider
    }

    fn model_id(&self) -> &str {
        &self.model
    }

    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        if request.abort.is_aborted() {
            return Err(ModelError::Aborted);
        }
        let body = ChatRequest::new(&self.model, &request)?;
        let body = serde_json::to_vec(&body).map_err(|e| ModelError::Other {
            message: format!("cannot encode the request: {e}"),
            retryable: false,
        })?;
        tracing::debug!(model = %self.model, endpoint = %self.endpoint, "model call");
        let response = self.open(Bytes::from(body), &request.abort).await?;
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if content_type.starts_with("application/json") {
            return Err(ModelError::Malformed(
                "the server answered with one JSON document instead of an event stream".into(),
            ));
        }
        Ok(model_stream(
            response,
            request.abort,
            self.stream_idle_timeout,
        ))
    }
}

impl fmt::Debug for OpenAiModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiModel")
            .field("model", &self.model)
            .field("provider", &self.provider)
            .field("endpoint", &self.endpoint.as_str())
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}
