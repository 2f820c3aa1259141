//! The client: configuration, sending events, and the calls the SDK makes to Inngest's API.

use crate::register::RegisterRequest;
use crate::{Config, Event, InngestError, Mode};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// `X-Inngest-SDK`: `owner/repo:vSEMVER` for an SDK outside the inngest org.
pub const SDK_NAME: &str = concat!("mastra-rs/mastra-rs:v", env!("CARGO_PKG_VERSION"));
/// `X-Inngest-Framework`.
pub const FRAMEWORK: &str = "axum";

/// A handle on one Inngest app. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Inngest {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    http: reqwest::Client,
}

/// What `/fn/register` answered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegisterResponse {
    #[serde(default)]
    pub ok: bool,
    #[serde(default)]
    pub modified: bool,
}

#[derive(Debug, Deserialize)]
struct SendResponse {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    error: Option<String>,
}

impl Inngest {
    pub fn new(config: Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                http: reqwest::Client::new(),
            }),
        }
    }

    /// [`Config::from_env`] for app `app_id`.
    pub fn from_env(app_id: impl Into<String>) -> Self {
        Self::new(Config::from_env(app_id))
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    fn request(
        &self,
        method: reqwest::Method,
        url: String,
    ) -> Result<reqwest::RequestBuilder, InngestError> {
        let config = self.config();
        let mut request = self
            .inner
            .http
            .request(method, url)
            .header("X-Inngest-SDK", SDK_NAME)
            .header("X-Inngest-Framework", FRAMEWORK);
        if let Some(env) = &config.env {
            request = request.header("X-Inngest-Env", env);
        }
        Ok(request)
    }

    fn api_request(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, InngestError> {
        let url = format!("{}{path}", self.config().api_origin);
        let mut request = self.request(method, url)?;
        if let Some(bearer) = self.config().bearer()? {
            request = request.header(reqwest::header::AUTHORIZATION, bearer);
        }
        Ok(request)
    }

    /// Sends events (`POST {event_api}/e/{key}`) and returns their ids. In dev mode a
    /// missing event key is fine (the dev server accepts any).
    pub async fn send(&self, events: &[Event]) -> Result<Vec<String>, InngestError> {
        let config = self.config();
        let key = match (&config.event_key, config.mode) {
            (Some(key), _) => key.clone(),
            (None, Mode::Dev) => "dev".to_owned(),
            (None, Mode::Cloud) => {
                return Err(InngestError::Config("INNGEST_EVENT_KEY is not set".into()))
            }
        };
        let url = format!("{}/e/{key}", config.event_api_origin);
        let response = self
            .request(reqwest::Method::POST, url)?
            .json(events)
            .send()
            .await?;
        let status = response.status().as_u16();
        // The dev server answers JSON as `text/plain`: decode the bytes ourselves.
        let bytes = response.bytes().await?;
        let body: Option<SendResponse> = serde_json::from_slice(&bytes).ok();
        match body {
            Some(body) if status == 200 => Ok(body.ids),
            body => Err(InngestError::Api {
                status,
                message: body
                    .and_then(|b| b.error)
                    .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned()),
            }),
        }
    }

    /// `POST {api}/fn/register`. `deploy_id` and `expected_server_kind` come from the `PUT`.
    pub async fn register(
        &self,
        body: &RegisterRequest,
        deploy_id: Option<&str>,
        expected_server_kind: Option<&str>,
    ) -> Result<RegisterResponse, InngestError> {
        let path = match deploy_id {
            Some(id) => format!("/fn/register?deployId={id}"),
            None => "/fn/register".to_owned(),
        };
        let mut request = self
            .api_request(reqwest::Method::POST, &path)?
            .header("X-Inngest-Sync-Kind", "out_of_band")
            .json(body);
        if let Some(kind) = expected_server_kind {
            request = request.header("X-Inngest-Expected-Server-Kind", kind);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        if status != 200 {
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(InngestError::Api { status, message });
        }
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// Publishes `data` on Inngest Realtime (`POST {api}/v1/realtime/publish`), e.g.
    /// channel `agent:<runId>`, topic `agent-stream`. Not a step: it fires again when the
    /// code around it is replayed, so subscribers should expect duplicates.
    pub async fn realtime_publish(
        &self,
        channel: &str,
        topic: &str,
        data: &Value,
    ) -> Result<(), InngestError> {
        let response = self
            .api_request(reqwest::Method::POST, "/v1/realtime/publish")?
            .query(&[("channel", channel), ("topic", topic)])
            .json(data)
            .send()
            .await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let message = response.text().await.unwrap_or_default();
            return Err(InngestError::Api { status, message });
        }
        Ok(())
    }

    /// `GET {api}{path}` as JSON (used for `use_api` payloads and run status).
    pub async fn api_get(&self, path: &str) -> Result<Value, InngestError> {
        let response = self.api_request(reqwest::Method::GET, path)?.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        if status != 200 {
            return Err(InngestError::Api {
                status,
                message: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        Ok(serde_json::from_slice(&bytes)?)
    }
}
