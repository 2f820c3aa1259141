//! The Chat Completions request body, mapped from our messages, tools and settings.

use mastra_core::{ContentPart, Message, ModelError, ModelRequest, Role, ToolChoice};
use serde::Serialize;
use serde_json::{json, Value};

/// `POST /chat/completions` with `stream: true`.
#[derive(Debug, Serialize)]
pub(crate) struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    stream: bool,
    stream_options: StreamOptions,
}

#[derive(Debug, Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum WireMessage {
    System {
        content: String,
    },
    User {
        content: UserContent,
    },
    Assistant {
        content: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<WireToolCall>,
    },
    Tool {
        tool_call_id: String,
        content: String,
    },
}

/// A single text part is sent as a plain string, which every compatible server accepts.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum UserContent {
    Text(String),
    Parts(Vec<UserPart>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum UserPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

#[derive(Debug, Serialize)]
struct ImageUrl {
    url: String,
}

#[derive(Debug, Serialize)]
struct WireToolCall {
    id: String,
    r#type: &'static str,
    function: WireFunctionCall,
}

#[derive(Debug, Serialize)]
struct WireFunctionCall {
    name: String,
    /// JSON text, as the API wants it.
    arguments: String,
}

#[derive(Debug, Serialize)]
struct WireTool<'a> {
    r#type: &'static str,
    function: WireFunction<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}

impl<'a> ChatRequest<'a> {
    /// Maps a request. Content the API cannot carry (non-image files, raw image bytes) is an
    /// error rather than silently dropped.
    pub(crate) fn new(model: &'a str, request: &'a ModelRequest) -> Result<Self, ModelError> {
        let mut messages = Vec::with_capacity(request.messages.len());
        for message in &request.messages {
            map_message(message, &mut messages)?;
        }
        let tools: Vec<WireTool<'a>> = request
            .tools
            .iter()
            .map(|tool| WireTool {
                r#type: "function",
                function: WireFunction {
                    name: &tool.name,
                    description: &tool.description,
                    parameters: &tool.input_schema,
                },
            })
            .collect();
        let settings = &request.settings;
        let tool_choice = (!tools.is_empty()).then(|| tool_choice(&settings.tool_choice));
        Ok(Self {
            model,
            messages,
            tools,
            tool_choice,
            temperature: settings.temperature,
            top_p: settings.top_p,
            max_tokens: settings.max_tokens,
            seed: settings.seed,
            stream: true,
            stream_options: StreamOptions {
                include_usage: true,
            },
        })
    }
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Tool { name } => json!({"type": "function", "function": {"name": name}}),
    }
}

fn map_message(message: &Message, out: &mut Vec<WireMessage>) -> Result<(), ModelError> {
    match message.role {
        Role::System => out.push(WireMessage::System {
            content: message.text(),
        }),
        Role::Assistant => out.push(assistant(message)),
        Role::User | Role::Tool => {
            let mut parts = Vec::new();
            for part in &message.content {
                match part {
                    ContentPart::ToolResult {
                        tool_call_id,
                        result,
                        ..
                    } => out.push(WireMessage::Tool {
                        tool_call_id: tool_call_id.clone(),
                        content: json_text(result),
                    }),
                    ContentPart::Text { text } => parts.push(UserPart::Text { text: text.clone() }),
                    ContentPart::Image { image, media_type } => {
                        parts.push(image_part(image, media_type.as_deref())?)
                    }
                    ContentPart::File { data, media_type } => match media_type.as_deref() {
                        Some(media) if media.starts_with("image/") => {
                            parts.push(image_part(data, Some(media))?)
                        }
                        other => return Err(unsupported(format!("file parts ({other:?})"))),
                    },
                    ContentPart::Reasoning { .. } | ContentPart::ToolCall { .. } => {}
                }
            }
            // A tool message carries only results; text beside them has no place on the wire.
            if message.role == Role::User && !parts.is_empty() {
                let content = match parts.as_slice() {
                    [UserPart::Text { text }] => UserContent::Text(text.clone()),
                    _ => UserContent::Parts(parts),
                };
                out.push(WireMessage::User { content });
            }
        }
    }
    Ok(())
}

/// Reasoning is not sent back: several providers reject it in input messages.
fn assistant(message: &Message) -> WireMessage {
    let tool_calls = message
        .content
        .iter()
        .filter_map(|part| match part {
            ContentPart::ToolCall {
                tool_call_id,
                tool_name,
                args,
            } => Some(WireToolCall {
                id: tool_call_id.clone(),
                r#type: "function",
                function: WireFunctionCall {
                    name: tool_name.clone(),
                    arguments: json_text(args),
                },
            }),
            _ => None,
        })
        .collect();
    WireMessage::Assistant {
        content: message.text(),
        tool_calls,
    }
}

/// Strings go as they are (the agent keeps unparsable arguments as the raw string);
/// anything else as JSON text.
fn json_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A URL or data URL is passed on; a bare string is taken as base64 of the given media type.
fn image_part(image: &Value, media_type: Option<&str>) -> Result<UserPart, ModelError> {
    let Value::String(text) = image else {
        return Err(unsupported(
            "images that are not a URL or base64 string".into(),
        ));
    };
    let is_url = ["http://", "https://", "data:"]
        .iter()
        .any(|scheme| text.starts_with(scheme));
    let url = if is_url {
        text.clone()
    } else {
        format!("data:{};base64,{text}", media_type.unwrap_or("image/png"))
    };
    Ok(UserPart::ImageUrl {
        image_url: ImageUrl { url },
    })
}

fn unsupported(what: String) -> ModelError {
    ModelError::Other {
        message: format!("the chat completions API does not accept {what}"),
        retryable: false,
    }
}

#[cfg(test)]
mod tests;
