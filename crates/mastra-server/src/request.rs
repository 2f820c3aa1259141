//! Request bodies of the agent routes, and the JSON extractor that answers bad ones with 400
//! (413 when over the body limit). Unknown fields are tolerated, as upstream does.

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use bytes::Bytes;
use mastra_core::{MessageInput, StreamOptions};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// A JSON body; any content type is accepted, as long as the bytes are JSON.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is larger than the server accepts",
                ),
                _ => ApiError::bad_request(rejection.body_text()),
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|error| ApiError::bad_request(format!("invalid request body: {error}")))
    }
}

/// A thread or resource id: a string, or an object with an `id`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum IdRef {
    Id(String),
    Object { id: String },
}

impl IdRef {
    fn into_id(self) -> String {
        match self {
            Self::Id(id) | Self::Object { id } => id,
        }
    }
}

/// `memory: {thread, resource}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Memory {
    #[serde(default)]
    thread: Option<IdRef>,
    #[serde(default)]
    resource: Option<IdRef>,
}

/// The fields that say on whose behalf a request acts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScopeFields {
    #[serde(default)]
    memory: Option<Memory>,
    /// The older spelling of `memory.resource`.
    #[serde(default)]
    resource_id: Option<String>,
    #[serde(default)]
    thread_id: Option<String>,
    #[serde(default)]
    request_context: Option<Value>,
}

impl ScopeFields {
    /// Only a `resourceId` (the browser route's query).
    pub(crate) fn with_resource(resource_id: Option<String>) -> Self {
        Self {
            resource_id,
            ..Self::default()
        }
    }

    /// The named resource: `memory.resource`, else `resourceId`, else
    /// `requestContext[context_key]` when the server is configured with a key.
    pub(crate) fn resource(&self, context_key: Option<&str>) -> Option<String> {
        let memory = self.memory.as_ref().and_then(|m| m.resource.clone());
        memory
            .map(IdRef::into_id)
            .or_else(|| self.resource_id.clone())
            .or_else(|| {
                let value = context_value(self.request_context.as_ref()?, context_key?)?;
                match value {
                    Value::String(id) => Some(id.clone()),
                    other => other.get("id")?.as_str().map(str::to_owned),
                }
            })
            .filter(|id| !id.is_empty())
    }

    pub(crate) fn thread(&self) -> Option<String> {
        let memory = self.memory.as_ref().and_then(|m| m.thread.clone());
        memory
            .map(IdRef::into_id)
            .or_else(|| self.thread_id.clone())
    }
}

/// `requestContext[key]`, whether the context is an object or a list of `[key, value]`
/// entries (a serialized `Map`).
fn context_value<'a>(context: &'a Value, key: &str) -> Option<&'a Value> {
    match context {
        Value::Object(map) => map.get(key),
        Value::Array(entries) => {
            entries
                .iter()
                .find_map(|entry| match entry.as_array()?.as_slice() {
                    [k, v] if k.as_str() == Some(key) => Some(v),
                    _ => None,
                })
        }
        _ => None,
    }
}

/// The body of `generate` and `stream`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentRequest {
    #[serde(deserialize_with = "deserialize_messages")]
    pub(crate) messages: MessageInput,
    #[serde(default)]
    pub(crate) run_id: Option<String>,
    #[serde(default)]
    pub(crate) max_steps: Option<u32>,
    #[serde(default)]
    pub(crate) instructions: Option<String>,
    #[serde(default)]
    pub(crate) require_tool_approval: Option<bool>,
    #[serde(flatten)]
    pub(crate) scope: ScopeFields,
}

/// `messages`, with an error that names the field (serde's untagged error does not).
fn deserialize_messages<'de, D: serde::Deserializer<'de>>(d: D) -> Result<MessageInput, D::Error> {
    let value = Value::deserialize(d)?;
    MessageInput::deserialize(value).map_err(|error| {
        serde::de::Error::custom(format!(
            "`messages` must be a string, a message or a list of messages ({error})"
        ))
    })
}

impl AgentRequest {
    /// The run options this request asks for, acting for `resource`.
    pub(crate) fn options(&self, resource: Option<String>) -> Result<StreamOptions, ApiError> {
        let mut options = StreamOptions::new();
        if let Some(run_id) = &self.run_id {
            if run_id.is_empty() {
                return Err(ApiError::bad_request("runId must not be empty"));
            }
            options.run_id = Some(run_id.clone());
        }
        options.max_steps = self.max_steps;
        options.instructions.clone_from(&self.instructions);
        options.require_tool_approval = self.require_tool_approval.unwrap_or(false);
        options.thread_id = self.scope.thread();
        options.resource_id = resource;
        Ok(options)
    }
}

/// The body of `observe`: `{runId, offset?}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObserveRequest {
    pub(crate) run_id: String,
    #[serde(default)]
    pub(crate) offset: Option<Value>,
    #[serde(flatten)]
    pub(crate) scope: ScopeFields,
}

/// The body of `resume-stream`, `approve-tool-call`, `decline-tool-call` and `abort`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunRequest {
    pub(crate) run_id: String,
    #[serde(default)]
    pub(crate) tool_call_id: Option<String>,
    #[serde(default)]
    pub(crate) resume_data: Option<Value>,
    #[serde(flatten)]
    pub(crate) scope: ScopeFields,
}

/// An offset must be a non-negative integer (upstream reads -k as "the last k" and 1.5 as 1;
/// we refuse both).
pub(crate) fn parse_offset(offset: Option<&Value>) -> Result<u64, ApiError> {
    match offset {
        None | Some(Value::Null) => Ok(0),
        Some(value) => value
            .as_u64()
            .ok_or_else(|| ApiError::bad_request("offset must be a non-negative integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resources_come_from_memory_then_resource_id_then_context() {
        let scope: ScopeFields = serde_json::from_value(json!({
            "memory": {"thread": {"id": "t1"}, "resource": "alice"}, "resourceId": "bob"
        }))
        .unwrap();
        assert_eq!(scope.resource(None).as_deref(), Some("alice"));
        assert_eq!(scope.thread().as_deref(), Some("t1"));
        let scope: ScopeFields =
            serde_json::from_value(json!({"requestContext": {"tenant": "carol"}})).unwrap();
        assert_eq!(scope.resource(None), None);
        assert_eq!(scope.resource(Some("tenant")).as_deref(), Some("carol"));
        let scope: ScopeFields =
            serde_json::from_value(json!({"requestContext": [["tenant", {"id": "dave"}]]}))
                .unwrap();
        assert_eq!(scope.resource(Some("tenant")).as_deref(), Some("dave"));
    }

    #[test]
    fn offsets_are_non_negative_integers() {
        assert_eq!(parse_offset(None).unwrap(), 0);
        assert_eq!(parse_offset(Some(&json!(3))).unwrap(), 3);
        for bad in [json!(-1), json!(1.5), json!("2")] {
            assert_eq!(
                parse_offset(Some(&bad)).unwrap_err().status,
                StatusCode::BAD_REQUEST
            );
        }
    }

    #[test]
    fn unknown_fields_are_tolerated_and_messages_required() {
        let body: AgentRequest =
            serde_json::from_value(json!({"messages": "hi", "whatever": 1})).unwrap();
        assert!(body.options(None).is_ok());
        assert!(serde_json::from_value::<AgentRequest>(json!({"runId": "r"})).is_err());
    }
}
