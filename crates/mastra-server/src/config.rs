//! `ServerConfig`: tokens, timeouts, limits, CORS and resource scoping of the HTTP edge.

use crate::shutdown::Shutdown;
use std::time::Duration;

/// How often an SSE response sends `: heartbeat` when nothing else is sent (upstream: 15 s).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);

/// How long `observe` waits for the next event before it closes (wire-contract §6: 5 min).
pub const DEFAULT_OBSERVE_IDLE: Duration = Duration::from_secs(300);

/// The largest request body accepted (1 MiB); larger ones are answered 413.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// How many run owners the server remembers before it forgets the oldest.
pub const DEFAULT_MAX_TRACKED_RUNS: usize = 100_000;

/// The environment variable with comma-separated bearer tokens.
pub const TOKENS_ENV: &str = "MASTRA_API_TOKENS";

/// Which origins browsers may call the API from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cors {
    /// No CORS headers: only same-origin browser calls (the default).
    #[default]
    Disabled,
    /// Any origin (`Access-Control-Allow-Origin: *`), without credentials.
    Any,
    /// These origins exactly (e.g. `https://app.example.com`).
    Origins(Vec<String>),
}

/// One accepted bearer token, optionally bound to a resource: requests with a bound token
/// act for that resource only, whatever their body says.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub(crate) token: String,
    pub(crate) resource: Option<String>,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret itself.
        f.debug_struct("ApiToken")
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

/// Settings of the HTTP server. `ServerConfig::default()` serves without auth and with the
/// upstream timeouts; [`ServerConfig::from_env`] also reads tokens from `MASTRA_API_TOKENS`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub(crate) tokens: Vec<ApiToken>,
    pub(crate) heartbeat: Duration,
    pub(crate) observe_idle: Duration,
    pub(crate) body_limit: usize,
    pub(crate) cors: Cors,
    pub(crate) resource_context_key: Option<String>,
    pub(crate) max_tracked_runs: usize,
    pub(crate) shutdown: Shutdown,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            tokens: Vec::new(),
            heartbeat: DEFAULT_HEARTBEAT,
            observe_idle: DEFAULT_OBSERVE_IDLE,
            body_limit: DEFAULT_BODY_LIMIT,
            cors: Cors::Disabled,
            resource_context_key: None,
            max_tracked_runs: DEFAULT_MAX_TRACKED_RUNS,
            shutdown: Shutdown::new(),
        }
    }
}

impl ServerConfig {
    pub fn new() -> Self {
        Self::default()
    }

    /// The defaults, plus the tokens listed in `MASTRA_API_TOKENS` (comma-separated).
    pub fn from_env() -> Self {
        let tokens = std::env::var(TOKENS_ENV).unwrap_or_default();
        Self::default().tokens(tokens.split(','))
    }

    /// Requires `Authorization: Bearer <token>` with one of these tokens (blank ones are
    /// ignored). Without any token the API is open.
    pub fn tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for token in tokens {
            let token: String = token.into();
            let token = token.trim();
            if !token.is_empty() {
                self.tokens.push(ApiToken {
                    token: token.to_owned(),
                    resource: None,
                });
            }
        }
        self
    }

    /// Accepts `token`, for requests acting as `resource` only.
    pub fn resource_token(mut self, token: impl Into<String>, resource: impl Into<String>) -> Self {
        self.tokens.push(ApiToken {
            token: token.into(),
            resource: Some(resource.into()),
        });
        self
    }

    /// The interval of `: heartbeat` comments on SSE responses (15 s).
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every;
        self
    }

    /// How long an `observe` response waits for the next event before it closes (5 min).
    pub fn observe_idle_timeout(mut self, idle: Duration) -> Self {
        self.observe_idle = idle;
        self
    }

    /// The largest request body, in bytes (1 MiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = cors;
        self
    }

    /// Also read a request's resource from `requestContext[key]` (after `memory.resource`).
    pub fn resource_context_key(mut self, key: impl Into<String>) -> Self {
        self.resource_context_key = Some(key.into());
        self
    }

    /// How many runs' owners to remember (100,000); the oldest are forgotten first.
    pub fn max_tracked_runs(mut self, runs: usize) -> Self {
        self.max_tracked_runs = runs.max(1);
        self
    }

    /// Ends this server's open SSE responses when triggered; [`crate::serve`] triggers it
    /// on SIGTERM or Ctrl-C.
    pub fn shutdown_handle(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// The handle that ends this server's open SSE responses.
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Whether requests need a bearer token.
    pub fn requires_auth(&self) -> bool {
        !self.tokens.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_tokens_are_ignored_and_secrets_are_not_printed() {
        let config = ServerConfig::new().tokens([" a ", "", "b"]);
        assert_eq!(config.tokens.len(), 2);
        assert_eq!(config.tokens[0].token, "a");
        assert!(!format!("{config:?}").contains("\"a\""));
        assert!(!ServerConfig::new().tokens([""]).requires_auth());
    }
}
