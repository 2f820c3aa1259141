//! Conversation messages, and the forms of `messages` that upstream's HTTP API accepts.
//!
//! ```
//! use mastra_core::{Message, MessageInput, Role};
//!
//! // A plain string is one user message.
//! let input: MessageInput = serde_json::from_str(r#""hello""#).unwrap();
//! assert_eq!(input.into_messages(), vec![Message::user("hello")]);
//!
//! // An array of `{role, content}`; content is a string or an array of parts.
//! let input: MessageInput = serde_json::from_str(
//!     r#"[{"role":"system","content":"be brief"},
//!         {"role":"user","content":[{"type":"text","text":"hi"}]}]"#,
//! ).unwrap();
//! let messages = input.into_messages();
//! assert_eq!(messages[0].role, Role::System);
//! assert_eq!(messages[1].text(), "hi");
//! ```

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

/// One piece of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ContentPart {
    Text {
        text: String,
    },
    Reasoning {
        text: String,
    },
    /// A tool call made by the assistant. Upstream spells the arguments `args` or `input`.
    #[serde(rename_all = "camelCase")]
    ToolCall {
        tool_call_id: String,
        tool_name: String,
        #[serde(alias = "input", default)]
        args: Value,
    },
    /// A tool's answer. Upstream spells it `result` or `output` (`{type, value}` in AI SDK v5).
    #[serde(rename_all = "camelCase")]
    ToolResult {
        tool_call_id: String,
        tool_name: String,
        #[serde(
            alias = "output",
            default,
            deserialize_with = "deserialize_tool_output"
        )]
        result: Value,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
    /// An image, passed through to providers that understand it.
    #[serde(rename_all = "camelCase")]
    Image {
        image: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_type: Option<String>,
    },
    /// A file, passed through to providers that understand it.
    #[serde(rename_all = "camelCase")]
    File {
        data: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_type: Option<String>,
    },
}

/// AI SDK v5 wraps tool outputs as `{type: "json"|"text"|..., value}`; unwrap that form.
fn deserialize_tool_output<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    let value = Value::deserialize(d)?;
    if let Value::Object(map) = &value {
        let typed = map.get("type").and_then(Value::as_str).is_some();
        if typed && map.len() == 2 {
            if let Some(inner) = map.get("value") {
                return Ok(inner.clone());
            }
        }
    }
    Ok(value)
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    #[serde(deserialize_with = "deserialize_content")]
    pub content: Vec<ContentPart>,
}

fn deserialize_content<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ContentPart>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Content {
        Text(String),
        Parts(Vec<ContentPart>),
    }
    Ok(match Content::deserialize(d)? {
        Content::Text(text) => vec![ContentPart::Text { text }],
        Content::Parts(parts) => parts,
    })
}

impl Message {
    /// A message with a single text part.
    pub fn new(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![ContentPart::Text { text: text.into() }],
        }
    }

    pub fn system(text: impl Into<String>) -> Self {
        Self::new(Role::System, text)
    }

    pub fn user(text: impl Into<String>) -> Self {
        Self::new(Role::User, text)
    }

    pub fn assistant(text: impl Into<String>) -> Self {
        Self::new(Role::Assistant, text)
    }

    /// The concatenated text parts of this message.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|part| match part {
                ContentPart::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// What a caller may pass as `messages`: a plain string (one user message), one message, or a
/// list of messages.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum MessageInput {
    Text(String),
    One(Message),
    Many(Vec<Message>),
}

impl MessageInput {
    /// The messages this input stands for.
    pub fn into_messages(self) -> Vec<Message> {
        match self {
            Self::Text(text) => vec![Message::user(text)],
            Self::One(message) => vec![message],
            Self::Many(messages) => messages,
        }
    }
}

impl From<&str> for MessageInput {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for MessageInput {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<Message> for MessageInput {
    fn from(message: Message) -> Self {
        Self::One(message)
    }
}

impl From<Vec<Message>> for MessageInput {
    fn from(messages: Vec<Message>) -> Self {
        Self::Many(messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_upstream_message_form() {
        let input: MessageInput = serde_json::from_value(json!([
            {"role": "user", "content": "what is 2+2?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "let me check"},
                {"type": "tool-call", "toolCallId": "c1", "toolName": "calc", "input": {"expr": "2+2"}}
            ]},
            {"role": "tool", "content": [
                {"type": "tool-result", "toolCallId": "c1", "toolName": "calc",
                 "output": {"type": "json", "value": {"result": 4}}}
            ]}
        ]))
        .unwrap();
        let messages = input.into_messages();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0], Message::user("what is 2+2?"));
        assert_eq!(
            messages[1].content[1],
            ContentPart::ToolCall {
                tool_call_id: "c1".into(),
                tool_name: "calc".into(),
                args: json!({"expr": "2+2"}),
            }
        );
        assert_eq!(
            messages[2].content[0],
            ContentPart::ToolResult {
                tool_call_id: "c1".into(),
                tool_name: "calc".into(),
                result: json!({"result": 4}),
                is_error: false,
            }
        );
    }

    #[test]
    fn single_message_object_is_accepted() {
        let input: MessageInput =
            serde_json::from_value(json!({"role": "user", "content": "hi"})).unwrap();
        assert_eq!(input.into_messages(), vec![Message::user("hi")]);
    }

    #[test]
    fn rejects_unknown_roles_and_parts() {
        assert!(
            serde_json::from_value::<MessageInput>(json!([{"role": "robot", "content": "x"}]))
                .is_err()
        );
        assert!(serde_json::from_value::<MessageInput>(
            json!([{"role": "user", "content": [{"type": "hologram"}]}])
        )
        .is_err());
        assert!(serde_json::from_value::<MessageInput>(json!(42)).is_err());
    }

    #[test]
    fn tool_result_serializes_with_wire_names() {
        let part = ContentPart::ToolResult {
            tool_call_id: "c1".into(),
            tool_name: "calc".into(),
            result: json!(4),
            is_error: true,
        };
        assert_eq!(
            serde_json::to_string(&part).unwrap(),
            r#"{"type":"tool-result","toolCallId":"c1","toolName":"calc","result":4,"isError":true}"#
        );
    }
}
