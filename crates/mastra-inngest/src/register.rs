//! The sync body sent to `POST {api}/fn/register`.

use crate::{Config, InngestFunction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `{url, deployType, appName, sdk, v, framework, functions}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    pub url: String,
    pub deploy_type: String,
    pub app_name: String,
    pub sdk: String,
    pub v: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    pub functions: Vec<FunctionConfig>,
}

/// One function as Inngest stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionConfig {
    /// The composite id `{app_id}-{fn_id}`.
    pub id: String,
    pub name: String,
    pub triggers: Vec<Trigger>,
    pub steps: BTreeMap<String, StepConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancel: Vec<Cancel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancel {
    pub event: String,
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// The single `step` entry: where to call and how often to retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepConfig {
    pub id: String,
    pub name: String,
    pub runtime: Runtime,
    pub retries: Retries,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runtime {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

/// `attempts` holds the number of *retries* (the server adds the first attempt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retries {
    pub attempts: u32,
}

/// Inngest's default retry count.
pub const DEFAULT_RETRIES: u32 = 4;

impl RegisterRequest {
    /// The body registering `functions`, served at `serve_url`.
    pub fn new(config: &Config, serve_url: &str, sdk: &str, functions: &[InngestFunction]) -> Self {
        let functions = functions
            .iter()
            .map(|function| {
                let id = config.function_id(&function.id);
                let step = StepConfig {
                    id: "step".into(),
                    name: "step".into(),
                    runtime: Runtime {
                        kind: "http".into(),
                        url: format!("{serve_url}?fnId={id}&stepId=step"),
                    },
                    retries: Retries {
                        attempts: function.retries.unwrap_or(DEFAULT_RETRIES),
                    },
                };
                FunctionConfig {
                    name: function.name.clone(),
                    triggers: vec![Trigger {
                        event: function.trigger.clone(),
                        expression: None,
                    }],
                    steps: BTreeMap::from([("step".to_owned(), step)]),
                    cancel: function
                        .cancel_on
                        .iter()
                        .map(|c| Cancel {
                            event: c.event.clone(),
                            condition: c.condition.clone(),
                            timeout: c.timeout.clone(),
                        })
                        .collect(),
                    id,
                }
            })
            .collect();
        Self {
            url: serve_url.to_owned(),
            deploy_type: "ping".into(),
            app_name: config.app_id.clone(),
            sdk: sdk.to_owned(),
            v: "0.1".into(),
            framework: Some("axum".into()),
            functions,
        }
    }
}
