//! `UpstashConfig`: where the Upstash REST API is and how the cache uses it, from code or
//! from `UPSTASH_REDIS_REST_URL` / `UPSTASH_REDIS_REST_TOKEN`.

use std::fmt;
use std::time::Duration;

use mastra_redis::{RetryPolicy, DEFAULT_KEY_PREFIX, DEFAULT_TTL};

use crate::UpstashError;

/// The variable holding the database's REST URL.
pub const URL_VAR: &str = "UPSTASH_REDIS_REST_URL";
/// The variable holding the database's REST token.
pub const TOKEN_VAR: &str = "UPSTASH_REDIS_REST_TOKEN";
/// Default cap on the size of one response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Settings of an [`UpstashServerCache`](crate::UpstashServerCache).
///
/// The token is kept out of `Debug` output.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpstashConfig {
    /// The database's REST URL (`https://<name>.upstash.io`).
    pub url: String,
    /// The REST token, sent as `Authorization: Bearer <token>`.
    pub token: String,
    /// Prefix of every cache key (`mastra:cache:`, as `@mastra/redis` and `mastra-redis`).
    pub key_prefix: String,
    /// Default TTL of cache keys (`Duration::ZERO` = never expire).
    pub default_ttl: Duration,
    /// How long one request may take, from sending it to the end of its body.
    pub timeout: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// Retries of requests that failed retryably (unreachable, timed out, HTTP 429 / 5xx).
    pub retry: RetryPolicy,
    /// Largest response body accepted; a larger one fails with
    /// [`UpstashError::ResponseTooLarge`].
    pub max_response_bytes: usize,
    /// Whether an `http://` URL to a host other than loopback is accepted. Off by default:
    /// the token would cross the network in clear.
    pub allow_insecure_http: bool,
}

impl fmt::Debug for UpstashConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstashConfig")
            .field("url", &self.url)
            .field("token", &"***")
            .field("key_prefix", &self.key_prefix)
            .field("default_ttl", &self.default_ttl)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl UpstashConfig {
    /// Settings for the database at `url` with `token`, with the defaults otherwise: key
    /// prefix `mastra:cache:`, TTL 300 s, 5 s per request, 4 tries.
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            url: url.into().trim().to_owned(),
            token: token.into().trim().to_owned(),
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            default_ttl: DEFAULT_TTL,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            allow_insecure_http: false,
        }
    }

    /// Settings from `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN` (both
    /// required).
    pub fn from_env() -> Result<Self, UpstashError> {
        let config = Self::new(env_var(URL_VAR)?, env_var(TOKEN_VAR)?);
        config.validate()?;
        Ok(config)
    }

    /// Checks the URL (https, or http to loopback), the token and the sizes.
    pub fn validate(&self) -> Result<(), UpstashError> {
        let url = reqwest::Url::parse(&self.url).map_err(|error| {
            UpstashError::Config(format!("`{}` is not a URL: {error}", self.url))
        })?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http || is_loopback(&url) => {}
            "http" => {
                return Err(UpstashError::Config(format!(
                    "`{}` is http://: the token would cross the network in clear; use the \
                     https:// REST URL (or allow_insecure_http for a trusted local proxy)",
                    self.url
                )))
            }
            other => {
                return Err(UpstashError::Config(format!(
                    "`{}` is a {other}:// URL; the REST API needs the https:// REST URL \
                     (for rediss:// use `tls_config`)",
                    self.url
                )))
            }
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(UpstashError::Config(format!(
                "`{}` must not carry a query or fragment",
                self.url
            )));
        }
        if self.token.is_empty() {
            return Err(UpstashError::Config("the Upstash token is empty".into()));
        }
        if self.token.chars().any(|c| c.is_control()) {
            return Err(UpstashError::Config(
                "the Upstash token holds control characters".into(),
            ));
        }
        if self.max_response_bytes == 0 {
            return Err(UpstashError::Config(
                "max_response_bytes must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// These settings with another key prefix.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// These settings with another default TTL (`Duration::ZERO` = never expire).
    pub fn with_default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// These settings with another timeout per request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// These settings with another connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// These settings with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// These settings with another cap on response bodies.
    pub fn with_max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// These settings, accepting (or not) `http://` URLs to hosts other than loopback.
    pub fn with_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A required environment variable, or a clear error naming it.
pub(crate) fn env_var(name: &str) -> Result<String, UpstashError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        Ok(_) => Err(UpstashError::Config(format!("{name} is empty"))),
        Err(std::env::VarError::NotPresent) => {
            Err(UpstashError::Config(format!("{name} is not set")))
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(UpstashError::Config(format!("{name} is not valid UTF-8")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_mastra_redis() {
        let config = UpstashConfig::new("https://eu1-x.upstash.io", " tok\n");
        assert_eq!(config.token, "tok");
        assert_eq!(config.key_prefix, "mastra:cache:");
        assert_eq!(config.default_ttl, Duration::from_secs(300));
        assert!(config.validate().is_ok());
        assert!(!format!("{config:?}").contains("tok\""), "{config:?}");
    }

    #[test]
    fn urls_are_checked() {
        let ok = |url: &str| UpstashConfig::new(url, "t").validate();
        assert!(ok("http://127.0.0.1:8080").is_ok());
        assert!(ok("http://localhost:8080").is_ok());
        assert!(ok("http://[::1]:8080").is_ok());
        let clear = ok("http://srh.internal").unwrap_err().to_string();
        assert!(clear.contains("in clear"), "{clear}");
        assert!(UpstashConfig::new("http://srh.internal", "t")
            .with_insecure_http(true)
            .validate()
            .is_ok());
        let rediss = ok("rediss://h:6379").unwrap_err().to_string();
        assert!(rediss.contains("tls_config"), "{rediss}");
        assert!(ok("not a url").is_err());
        assert!(ok("https://h/?_token=x").is_err());
        assert!(UpstashConfig::new("https://h", "").validate().is_err());
    }
}
