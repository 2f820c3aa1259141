//! The `LanguageModel` contract: one streaming call per model step.
//!
//! A provider turns a [`ModelRequest`] (messages, tool definitions, settings, abort signal) into a
//! stream of [`ModelPart`]s ending with [`ModelPart::Finish`]. Dropping the stream cancels the
//! call; so does aborting the request's signal, which providers must honour while they wait.

use crate::{AbortSignal, FinishReason, Message, ModelError, Usage};
use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A tool as the model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    /// JSON Schema of the tool's input object.
    pub input_schema: Value,
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum ToolChoice {
    #[default]
    Auto,
    None,
    Required,
    Tool {
        #[serde(rename = "toolName")]
        name: String,
    },
}

/// Sampling settings for one call. `None` leaves the provider's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default)]
    pub tool_choice: ToolChoice,
}

/// Everything a provider needs for one streaming call.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDefinition>,
    pub settings: ModelSettings,
    /// Aborted when the run is aborted; the provider stops waiting and returns.
    pub abort: AbortSignal,
}

impl ModelRequest {
    /// A request with no tools, default settings and a fresh abort signal.
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            tools: Vec::new(),
            settings: ModelSettings::default(),
            abort: AbortSignal::new(),
        }
    }
}

/// One piece of a model's streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelPart {
    TextDelta(String),
    ReasoningDelta(String),
    /// The model started writing the arguments of a tool call.
    ToolCallStart {
        id: String,
        name: String,
    },
    /// A fragment of a tool call's JSON arguments.
    ToolCallDelta {
        id: String,
        args_delta: String,
    },
    /// A complete tool call; `args` is the raw JSON text the model produced.
    ToolCall {
        id: String,
        name: String,
        args: String,
    },
    /// The last part of every successful call.
    Finish {
        reason: FinishReason,
        usage: Usage,
    },
}

/// The stream a model call returns.
pub type ModelStream = BoxStream<'static, Result<ModelPart, ModelError>>;

/// A language model provider.
#[async_trait]
pub trait LanguageModel: Send + Sync + 'static {
    /// Provider name, e.g. `openai` or `mastra-demo`.
    fn provider(&self) -> &str;

    /// Model name, e.g. `gpt-4o-mini`.
    fn model_id(&self) -> &str;

    /// Starts one streaming call. Errors before the first part (connection refused, HTTP
    /// 4xx/5xx after retries) come back here; errors after it come through the stream.
    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError>;
}
