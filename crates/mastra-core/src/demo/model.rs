//! A small rule-based model for offline demos and tests. It understands:
//!
//! - `count to N`: streams `1`, ` 2`, ..., ` N` as separate text deltas;
//! - `weather in <city>`: calls the `weather` tool, then answers from its result;
//! - `calculate <expr>`: calls the `calculator` tool, then answers from its result;
//!
//! and answers anything else with a short fixed explanation.

use crate::{
    ContentPart, FinishReason, LanguageModel, Message, ModelError, ModelPart, ModelRequest,
    ModelStream, Role, Usage,
};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

/// The largest N that `count to N` accepts.
pub const MAX_COUNT: u64 = 1_000_000;

/// What the demo model says when it does not understand.
pub const FALLBACK_ANSWER: &str = "I am the built-in demo model. Try \"count to 5\", \
\"weather in Paris\" or \"calculate 2 * (3 + 4)\".";

/// The rule-based demo model. `with_delay` paces every delta, to watch streaming happen.
#[derive(Debug, Clone, Default)]
pub struct DemoModel {
    delay: Option<Duration>,
}

impl DemoModel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits this long before each streamed part.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = (!delay.is_zero()).then_some(delay);
        self
    }
}

#[async_trait]
impl LanguageModel for DemoModel {
    fn provider(&self) -> &str {
        "mastra-demo"
    }

    fn model_id(&self) -> &str {
        "demo"
    }

    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        let (parts, reason) = respond(&request.messages);
        let output_tokens = parts.len() as u64;
        let input_tokens = request
            .messages
            .iter()
            .map(|m| {
                serde_json::to_string(&m.content)
                    .map(|s| s.len())
                    .unwrap_or(0) as u64
            })
            .sum::<u64>()
            .div_ceil(4);
        let finish = ModelPart::Finish {
            reason,
            usage: Usage::new(input_tokens, output_tokens),
        };
        let parts = futures::stream::iter(parts.into_iter().chain([finish]).map(Ok));
        let Some(delay) = self.delay else {
            return Ok(parts.boxed());
        };
        let abort = request.abort.clone();
        Ok(parts
            .then(move |part| {
                let abort = abort.clone();
                async move {
                    tokio::select! {
                        _ = abort.aborted() => Err(ModelError::Aborted),
                        _ = tokio::time::sleep(delay) => part,
                    }
                }
            })
            .boxed())
    }
}

/// Decides the answer from the conversation.
fn respond(messages: &[Message]) -> (Vec<ModelPart>, FinishReason) {
    let Some(last) = messages.last() else {
        return (words(FALLBACK_ANSWER), FinishReason::Stop);
    };
    if last.role == Role::Tool {
        return (words(&answer_from_results(last)), FinishReason::Stop);
    }
    let prompt = last.text();
    let lower = prompt.trim().to_lowercase();
    if let Some(rest) = after(&lower, "count to ") {
        return match rest.trim_end_matches(['.', '!', '?']).trim().parse::<u64>() {
            Ok(n) if (1..=MAX_COUNT).contains(&n) => (count(n), FinishReason::Stop),
            _ => (
                words(&format!("I can count from 1 to {MAX_COUNT}.")),
                FinishReason::Stop,
            ),
        };
    }
    let call_id = format!("call_{}", messages.len());
    if let Some(start) = lower.find("weather in ") {
        let city = prompt.trim()[start + "weather in ".len()..]
            .trim_end_matches(['.', '!', '?'])
            .trim();
        return tool_call(call_id, "weather", json!({ "city": city }));
    }
    if let Some(start) = lower.find("calculate ") {
        let expression = prompt.trim()[start + "calculate ".len()..]
            .trim_end_matches(['?', '!'])
            .trim();
        return tool_call(call_id, "calculator", json!({ "expression": expression }));
    }
    (words(FALLBACK_ANSWER), FinishReason::Stop)
}

fn after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    text.find(marker).map(|i| &text[i + marker.len()..])
}

fn count(n: u64) -> Vec<ModelPart> {
    (1..=n)
        .map(|i| {
            ModelPart::TextDelta(if i == 1 {
                "1".to_owned()
            } else {
                format!(" {i}")
            })
        })
        .collect()
}

/// Splits text into word deltas, each keeping its leading space.
fn words(text: &str) -> Vec<ModelPart> {
    text.split_inclusive(' ')
        .map(|w| ModelPart::TextDelta(w.to_owned()))
        .collect()
}

fn tool_call(id: String, name: &str, args: Value) -> (Vec<ModelPart>, FinishReason) {
    let args = args.to_string();
    let parts = vec![
        ModelPart::ToolCallStart {
            id: id.clone(),
            name: name.to_owned(),
        },
        ModelPart::ToolCallDelta {
            id: id.clone(),
            args_delta: args.clone(),
        },
        ModelPart::ToolCall {
            id,
            name: name.to_owned(),
            args,
        },
    ];
    (parts, FinishReason::ToolCalls)
}

fn answer_from_results(message: &Message) -> String {
    let answers: Vec<String> = message
        .content
        .iter()
        .filter_map(|part| match part {
            ContentPart::ToolResult {
                tool_name,
                result,
                is_error,
                ..
            } => Some(describe(tool_name, result, *is_error)),
            _ => None,
        })
        .collect();
    if answers.is_empty() {
        FALLBACK_ANSWER.to_owned()
    } else {
        answers.join(" ")
    }
}

fn describe(tool: &str, result: &Value, is_error: bool) -> String {
    if is_error {
        let reason = result.as_str().unwrap_or("unknown error");
        return format!("Sorry, the {tool} tool failed: {reason}.");
    }
    match tool {
        "weather" => format!(
            "The weather in {} is {} at {}°C.",
            result["city"].as_str().unwrap_or("that city"),
            result["conditions"].as_str().unwrap_or("unknown"),
            result["temperatureC"],
        ),
        "calculator" => format!(
            "{} = {}",
            result["expression"].as_str().unwrap_or("the expression"),
            format_number(&result["result"]),
        ),
        other => format!("The {other} tool returned {result}."),
    }
}

fn format_number(value: &Value) -> String {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", n as i64),
        Some(n) => format!("{n}"),
        None => value.to_string(),
    }
}
