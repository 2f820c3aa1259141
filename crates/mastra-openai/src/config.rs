//! How to reach a provider: endpoint, credentials, timeouts and retry policy.

use crate::OpenAiModel;
use mastra_core::ModelError;
use std::fmt;
use std::time::Duration;

/// OpenAI's own endpoint, used when no base URL is given.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Settings of an [`OpenAiModel`], built with chained setters and turned into a model with
/// [`build`](Self::build).
///
/// ```
/// use mastra_openai::OpenAiConfig;
/// use std::time::Duration;
///
/// let model = OpenAiConfig::new("llama3.2")
///     .base_url("http://localhost:11434/v1")
///     .max_retries(5)
///     .timeout(Duration::from_secs(30))
///     .build()
///     .unwrap();
/// assert_eq!(mastra_core::LanguageModel::model_id(&model), "llama3.2");
/// ```
#[derive(Clone)]
pub struct OpenAiConfig {
    pub(crate) model: String,
    pub(crate) provider: String,
    pub(crate) base_url: String,
    pub(crate) api_key: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) stream_idle_timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) retry_base_delay: Duration,
    pub(crate) max_retry_delay: Duration,
    pub(crate) http_client: Option<reqwest::Client>,
}

impl OpenAiConfig {
    /// Settings for `model` at OpenAI's endpoint, with no API key yet.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            provider: "openai".to_owned(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            headers: Vec::new(),
            timeout: Duration::from_secs(600),
            stream_idle_timeout: Duration::from_secs(300),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(500),
            max_retry_delay: Duration::from_secs(20),
            http_client: None,
        }
    }

    /// Settings for `model` from `OPENAI_BASE_URL` and `OPENAI_API_KEY` (empty counts as unset).
    pub fn from_env(model: impl Into<String>) -> Self {
        Self::from_lookup(model, |name| std::env::var(name).ok())
    }

    pub(crate) fn from_lookup(
        model: impl Into<String>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut config = Self::new(model);
        if let Some(base_url) = var("OPENAI_BASE_URL") {
            config.base_url = base_url;
        }
        config.api_key = var("OPENAI_API_KEY");
        config
    }

    /// The API root, e.g. `http://localhost:11434/v1`; `/chat/completions` is appended.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sent as `Authorization: Bearer <key>`.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// An extra header on every request (`OpenAI-Organization`, `HTTP-Referer`, ...).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The name [`provider()`](mastra_core::LanguageModel::provider) reports; `openai` by default.
    pub fn provider_name(mut self, provider: impl Into<String>) -> Self {
        self.provider = provider.into();
        self
    }

    /// How long one attempt may take to connect and receive the response headers (10 min).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long the stream may go without receiving a byte before it counts as broken (5 min).
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = timeout;
        self
    }

    /// Retries after 408/409/429/5xx answers and connection failures, before streaming (2).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The first backoff delay, doubled on every further retry (500 ms).
    pub fn retry_base_delay(mut self, delay: Duration) -> Self {
        self.retry_base_delay = delay;
        self
    }

    /// The longest wait between attempts, also capping a server's `Retry-After` (20 s).
    pub fn max_retry_delay(mut self, delay: Duration) -> Self {
        self.max_retry_delay = delay;
        self
    }

    /// Uses this HTTP client (proxies, custom TLS roots) instead of a default one.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Checks the settings and builds the model. OpenAI's own endpoint needs an API key;
    /// a self-hosted one (Ollama, vLLM, llama.cpp) may have none.
    pub fn build(self) -> Result<OpenAiModel, ModelError> {
        if self.api_key.is_none() && self.base_url.trim_end_matches('/') == DEFAULT_BASE_URL {
            return Err(ModelError::Config(
                "no API key: set OPENAI_API_KEY, or OPENAI_BASE_URL for a server that needs none"
                    .to_owned(),
            ));
        }
        OpenAiModel::new(self)
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("OpenAiConfig")
            .field("model", &self.model)
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("headers", &header_names)
            .field("timeout", &self.timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("max_retry_delay", &self.max_retry_delay)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn env_with_key_targets_openai() {
        let config = OpenAiConfig::from_lookup("gpt-4o-mini", env(&[("OPENAI_API_KEY", "sk-1")]));
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.api_key.as_deref(), Some("sk-1"));
        assert!(config.build().is_ok());
    }

    #[test]
    fn base_url_without_key_is_allowed() {
        let vars = [
            ("OPENAI_BASE_URL", "http://localhost:11434/v1"),
            ("OPENAI_API_KEY", ""),
        ];
        let config = OpenAiConfig::from_lookup("llama3.2", env(&vars));
        assert_eq!(config.api_key, None);
        assert!(config.build().is_ok());
    }

    #[test]
    fn openai_without_key_is_a_config_error() {
        let result = OpenAiConfig::from_lookup("gpt-4o-mini", env(&[])).build();
        assert!(matches!(result, Err(ModelError::Config(_))));
    }

    #[test]
    fn debug_hides_the_key() {
        let config = OpenAiConfig::new("m").api_key("sk-secret");
        assert!(!format!("{config:?}").contains("sk-secret"));
    }
}
