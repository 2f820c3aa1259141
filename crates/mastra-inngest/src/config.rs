//! Configuration: the app id, where the Inngest API and event API are, the keys, and the
//! mode, from code or from the standard `INNGEST_*` variables.

use crate::signature::hash_signing_key;
use crate::InngestError;

/// The cloud API origin.
pub const CLOUD_API_ORIGIN: &str = "https://api.inngest.com";
/// The cloud event API origin.
pub const CLOUD_EVENT_API_ORIGIN: &str = "https://inn.gs";
/// Where a dev server listens unless told otherwise.
pub const DEV_SERVER_ORIGIN: &str = "http://localhost:8288";
/// The conventional serve path.
pub const DEFAULT_SERVE_PATH: &str = "/api/inngest";

/// Cloud requires signed requests; dev checks a signature only when one is sent and a key is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Cloud,
    Dev,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Cloud => "cloud",
            Mode::Dev => "dev",
        }
    }
}

/// Everything the SDK needs to know about its app and its Inngest server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The app id: composite function ids are `{app_id}-{fn_id}`.
    pub app_id: String,
    pub mode: Mode,
    pub api_origin: String,
    pub event_api_origin: String,
    pub event_key: Option<String>,
    pub signing_key: Option<String>,
    pub signing_key_fallback: Option<String>,
    /// The branch environment (`X-Inngest-Env`).
    pub env: Option<String>,
    /// This app's public origin; when unset, a sync uses the `Host` of the `PUT`.
    pub serve_origin: Option<String>,
    pub serve_path: String,
}

impl Config {
    /// Cloud mode with the cloud origins and no keys.
    pub fn new(app_id: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            mode: Mode::Cloud,
            api_origin: CLOUD_API_ORIGIN.into(),
            event_api_origin: CLOUD_EVENT_API_ORIGIN.into(),
            event_key: None,
            signing_key: None,
            signing_key_fallback: None,
            env: None,
            serve_origin: None,
            serve_path: DEFAULT_SERVE_PATH.into(),
        }
    }

    /// Dev mode against a dev server at `origin` (API and events on the same origin).
    pub fn dev(app_id: impl Into<String>, origin: impl Into<String>) -> Self {
        let origin = trim_origin(origin.into());
        Self {
            mode: Mode::Dev,
            api_origin: origin.clone(),
            event_api_origin: origin,
            ..Self::new(app_id)
        }
    }

    /// From the process environment (see [`Config::from_vars`]).
    pub fn from_env(app_id: impl Into<String>) -> Self {
        Self::from_vars(app_id, |name| std::env::var(name).ok())
    }

    /// From `INNGEST_DEV` (`1`/`true` or a dev-server origin; `0`/`false` for cloud),
    /// `INNGEST_BASE_URL`, `INNGEST_API_ORIGIN`, `INNGEST_EVENT_API_ORIGIN`,
    /// `INNGEST_EVENT_KEY`, `INNGEST_SIGNING_KEY`, `INNGEST_SIGNING_KEY_FALLBACK`,
    /// `INNGEST_ENV`, `INNGEST_SERVE_ORIGIN` and `INNGEST_SERVE_PATH`, looked up with `var`.
    pub fn from_vars(app_id: impl Into<String>, var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut config = match var("INNGEST_DEV").as_deref() {
            None | Some("0") | Some("false") => Self::new(app_id),
            Some("1") | Some("true") => Self::dev(app_id, DEV_SERVER_ORIGIN),
            Some(origin) => Self::dev(app_id, origin),
        };
        if let Some(base) = var("INNGEST_BASE_URL") {
            config.api_origin = trim_origin(base.clone());
            config.event_api_origin = trim_origin(base);
        }
        if let Some(api) = var("INNGEST_API_ORIGIN") {
            config.api_origin = trim_origin(api);
        }
        if let Some(events) = var("INNGEST_EVENT_API_ORIGIN") {
            config.event_api_origin = trim_origin(events);
        }
        config.event_key = var("INNGEST_EVENT_KEY");
        config.signing_key = var("INNGEST_SIGNING_KEY");
        config.signing_key_fallback = var("INNGEST_SIGNING_KEY_FALLBACK");
        config.env = var("INNGEST_ENV");
        config.serve_origin = var("INNGEST_SERVE_ORIGIN").map(trim_origin);
        if let Some(path) = var("INNGEST_SERVE_PATH") {
            config.serve_path = path;
        }
        config
    }

    /// The composite id of function `fn_id`.
    pub fn function_id(&self, fn_id: &str) -> String {
        format!("{}-{fn_id}", self.app_id)
    }

    /// The `Authorization` value for API calls, if a signing key is set.
    pub fn bearer(&self) -> Result<Option<String>, InngestError> {
        self.signing_key
            .as_deref()
            .map(|key| hash_signing_key(key).map(|hash| format!("Bearer {hash}")))
            .transpose()
    }
}

fn trim_origin(origin: String) -> String {
    origin.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Config {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars("app", |name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_to_cloud() {
        let config = from(&[]);
        assert_eq!(config.mode, Mode::Cloud);
        assert_eq!(config.api_origin, CLOUD_API_ORIGIN);
        assert_eq!(config.event_api_origin, CLOUD_EVENT_API_ORIGIN);
        assert_eq!(config.serve_path, "/api/inngest");
        assert_eq!(config.function_id("agent-loop"), "app-agent-loop");
    }

    #[test]
    fn reads_every_standard_variable() {
        let config = from(&[
            ("INNGEST_DEV", "http://127.0.0.1:8299/"),
            ("INNGEST_EVENT_API_ORIGIN", "http://events:9000"),
            ("INNGEST_EVENT_KEY", "ek"),
            ("INNGEST_SIGNING_KEY", "signkey-test-12345678"),
            ("INNGEST_SIGNING_KEY_FALLBACK", "signkey-test-abcd"),
            ("INNGEST_ENV", "branch-1"),
            ("INNGEST_SERVE_ORIGIN", "https://app.example/"),
            ("INNGEST_SERVE_PATH", "/inngest"),
        ]);
        assert_eq!(config.mode, Mode::Dev);
        assert_eq!(config.api_origin, "http://127.0.0.1:8299");
        assert_eq!(config.event_api_origin, "http://events:9000");
        assert_eq!(config.event_key.as_deref(), Some("ek"));
        assert_eq!(
            config.signing_key_fallback.as_deref(),
            Some("signkey-test-abcd")
        );
        assert_eq!(config.env.as_deref(), Some("branch-1"));
        assert_eq!(config.serve_origin.as_deref(), Some("https://app.example"));
        assert_eq!(config.serve_path, "/inngest");
        assert_eq!(
            config.bearer().unwrap().unwrap(),
            "Bearer signkey-test-b2ed992186a5cb19f6668aade821f502c1d00970dfd0e35128d51bac4649916c"
        );
    }

    #[test]
    fn dev_flag_and_base_url() {
        let dev = from(&[("INNGEST_DEV", "1")]);
        assert_eq!(
            (dev.mode, dev.api_origin.as_str()),
            (Mode::Dev, DEV_SERVER_ORIGIN)
        );
        let cloud = from(&[("INNGEST_DEV", "0"), ("INNGEST_BASE_URL", "http://x:1")]);
        assert_eq!(cloud.mode, Mode::Cloud);
        assert_eq!(
            (cloud.api_origin.as_str(), cloud.event_api_origin.as_str()),
            ("http://x:1", "http://x:1")
        );
    }
}
