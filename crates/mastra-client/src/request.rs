//! Request and answer bodies of the agent routes (wire-contract §6).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The body of `generate` and `stream`: `{messages, runId?, maxSteps?, memory?, ...}`.
///
/// ```
/// use mastra_client::AgentRequest;
///
/// let request = AgentRequest::new("count to 3").run_id("run-1").max_steps(2);
/// assert_eq!(
///     serde_json::to_string(&request).unwrap(),
///     r#"{"messages":"count to 3","maxSteps":2,"runId":"run-1"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRequest {
    /// A string (one user message), one `{role, content}` message or an array of them.
    pub messages: Value,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl AgentRequest {
    /// A request with these messages.
    pub fn new(messages: impl Into<Value>) -> Self {
        Self {
            messages: messages.into(),
            fields: Map::new(),
        }
    }

    /// Sets any field of the body (`requireToolApproval`, `requestContext`, ...).
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }

    /// The run id to use (by default the client picks a random UUID for `stream`).
    pub fn run_id(self, run_id: impl Into<String>) -> Self {
        self.field("runId", run_id.into())
    }

    /// The most model steps the run may take.
    pub fn max_steps(self, steps: u32) -> Self {
        self.field("maxSteps", steps)
    }

    /// `memory: {thread, resource}`: the resource also scopes the run on the server.
    pub fn memory(self, thread: impl Into<String>, resource: impl Into<String>) -> Self {
        let memory = serde_json::json!({ "thread": thread.into(), "resource": resource.into() });
        self.field("memory", memory)
    }

    /// The `runId` field, if set.
    pub fn get_run_id(&self) -> Option<&str> {
        self.fields.get("runId").and_then(Value::as_str)
    }
}

/// One agent as `GET /api/agents` describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentDetails {
    /// The agent's display name.
    #[serde(default)]
    pub name: String,
    /// Its instructions (system prompt).
    #[serde(default)]
    pub instructions: Value,
    /// Its tools by id.
    #[serde(default)]
    pub tools: Map<String, Value>,
    /// Whether its runs are durable (observable, resumable).
    #[serde(default)]
    pub durable: bool,
    /// Every other field (`provider`, `modelId`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `POST /api/agents/:agentId/abort`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbortAnswer {
    /// The aborted run.
    pub run_id: String,
    /// `aborting`.
    pub status: String,
}
