//! A deterministic model that plays back scripted responses, one per model call.
//!
//! ```
//! use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
//! use mastra_core::{Agent, StreamOptions};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let model = ScriptedModel::new([
//!     ScriptedResponse::new().tool_call("lookup", json!({"q": "rust"})),
//!     ScriptedResponse::new().text_deltas(["Rust is ", "a language."]),
//! ]);
//! let agent = Agent::builder("a", model.clone()).build();
//! let output = agent.generate("what is rust?", StreamOptions::new()).await.unwrap();
//! assert_eq!(output.text, "Rust is a language.");
//! assert_eq!(model.calls(), 2);
//! # }
//! ```

use crate::{FinishReason, LanguageModel, ModelError, ModelPart, ModelRequest, ModelStream, Usage};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted model call.
#[derive(Debug, Clone)]
pub struct ScriptedResponse {
    parts: Vec<ModelPart>,
    reason: Option<FinishReason>,
    usage: Usage,
    delay: Option<Duration>,
    /// Fail the call (before any part) with a retryable or terminal error.
    failure: Option<(String, bool)>,
    /// Stop the stream after this many parts without a finish, as a broken connection would.
    cut_after: Option<usize>,
}

impl Default for ScriptedResponse {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptedResponse {
    pub fn new() -> Self {
        Self {
            parts: Vec::new(),
            reason: None,
            usage: Usage::new(10, 10),
            delay: None,
            failure: None,
            cut_after: None,
        }
    }

    /// A response of one text delta.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new().text_deltas([text.into()])
    }

    /// Adds text, one delta per item.
    pub fn text_deltas<I: IntoIterator<Item = T>, T: Into<String>>(mut self, deltas: I) -> Self {
        self.parts
            .extend(deltas.into_iter().map(|d| ModelPart::TextDelta(d.into())));
        self
    }

    pub fn reasoning(mut self, text: impl Into<String>) -> Self {
        self.parts.push(ModelPart::ReasoningDelta(text.into()));
        self
    }

    /// Adds a tool call, with its arguments streamed as one delta; the finish reason becomes
    /// `tool-calls`.
    pub fn tool_call(self, name: impl Into<String>, args: Value) -> Self {
        let args = args.to_string();
        self.raw_tool_call(name, args)
    }

    /// Adds a tool call whose argument text is given as is (it may be invalid JSON).
    pub fn raw_tool_call(mut self, name: impl Into<String>, args: impl Into<String>) -> Self {
        let id = format!("call_{}", self.parts.len());
        let name = name.into();
        let args = args.into();
        self.parts.push(ModelPart::ToolCallStart {
            id: id.clone(),
            name: name.clone(),
        });
        self.parts.push(ModelPart::ToolCallDelta {
            id: id.clone(),
            args_delta: args.clone(),
        });
        self.parts.push(ModelPart::ToolCall { id, name, args });
        self.reason.get_or_insert(FinishReason::ToolCalls);
        self
    }

    pub fn finish_reason(mut self, reason: FinishReason) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// Waits this long before each part.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// The call fails before streaming.
    pub fn fail(mut self, message: impl Into<String>, retryable: bool) -> Self {
        self.failure = Some((message.into(), retryable));
        self
    }

    /// The stream breaks off after `parts` parts, without a finish.
    pub fn cut_after(mut self, parts: usize) -> Self {
        self.cut_after = Some(parts);
        self
    }

    fn into_stream(self, request: &ModelRequest) -> ModelStream {
        let finish = ModelPart::Finish {
            reason: self.reason.unwrap_or(FinishReason::Stop),
            usage: self.usage,
        };
        let mut parts = self.parts;
        match self.cut_after {
            Some(n) => parts.truncate(n),
            None => parts.push(finish),
        }
        let parts = futures::stream::iter(parts.into_iter().map(Ok));
        match self.delay {
            None => parts.boxed(),
            Some(delay) => {
                let abort = request.abort.clone();
                parts
                    .then(move |part| {
                        let abort = abort.clone();
                        async move {
                            tokio::select! {
                                _ = abort.aborted() => Err(ModelError::Aborted),
                                _ = tokio::time::sleep(delay) => part,
                            }
                        }
                    })
                    .boxed()
            }
        }
    }
}

/// A model that answers call `n` with the `n`-th scripted response. Clones share the script
/// and the record of requests.
#[derive(Debug, Clone, Default)]
pub struct ScriptedModel {
    responses: Arc<Vec<ScriptedResponse>>,
    calls: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<ModelRequest>>>,
}

impl ScriptedModel {
    pub fn new(responses: impl IntoIterator<Item = ScriptedResponse>) -> Self {
        Self {
            responses: Arc::new(responses.into_iter().collect()),
            ..Self::default()
        }
    }

    /// How many times the model was called.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl LanguageModel for ScriptedModel {
    fn provider(&self) -> &str {
        "mastra-scripted"
    }

    fn model_id(&self) -> &str {
        "scripted"
    }

    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request.clone());
        }
        let Some(response) = self.responses.get(call).cloned() else {
            return Err(ModelError::Other {
                message: format!("scripted model has no response for call {}", call + 1),
                retryable: false,
            });
        };
        if let Some((message, retryable)) = &response.failure {
            return Err(ModelError::Other {
                message: message.clone(),
                retryable: *retryable,
            });
        }
        Ok(response.into_stream(&request))
    }
}
