use super::*;
use mastra_core::{ModelSettings, ToolDefinition};

fn body(request: &ModelRequest) -> Value {
    serde_json::to_value(ChatRequest::new("m", request).unwrap()).unwrap()
}

#[test]
fn images_become_image_url_parts() {
    let message = Message {
        role: Role::User,
        content: vec![
            ContentPart::Text {
                text: "what is this?".into(),
            },
            ContentPart::Image {
                image: json!("https://x.test/cat.png"),
                media_type: None,
            },
            ContentPart::Image {
                image: json!("iVBORw0KGgo="),
                media_type: Some("image/png".into()),
            },
        ],
    };
    let body = body(&ModelRequest::new(vec![message]));
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
        ])
    );
}

#[test]
fn no_tools_means_no_tool_fields_and_no_unset_settings() {
    let mut request = ModelRequest::new(vec![Message::user("hi")]);
    request.settings = ModelSettings {
        tool_choice: ToolChoice::Required,
        ..Default::default()
    };
    assert_eq!(
        body(&request),
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
               "stream": true, "stream_options": {"include_usage": true}})
    );
}

#[test]
fn tool_choice_forms() {
    let mut request = ModelRequest::new(vec![]);
    request.tools.push(ToolDefinition {
        name: "f".into(),
        description: "d".into(),
        input_schema: json!({"type": "object"}),
    });
    for (choice, wire) in [
        (ToolChoice::Auto, json!("auto")),
        (ToolChoice::None, json!("none")),
        (ToolChoice::Required, json!("required")),
        (
            ToolChoice::Tool { name: "f".into() },
            json!({"type": "function", "function": {"name": "f"}}),
        ),
    ] {
        request.settings.tool_choice = choice;
        assert_eq!(body(&request)["tool_choice"], wire);
    }
}

#[test]
fn unsupported_files_are_refused() {
    let message = Message {
        role: Role::User,
        content: vec![ContentPart::File {
            data: json!("JVBERi0="),
            media_type: Some("application/pdf".into()),
        }],
    };
    let request = ModelRequest::new(vec![message]);
    let result = ChatRequest::new("m", &request);
    assert!(matches!(
        result,
        Err(ModelError::Other {
            retryable: false,
            ..
        })
    ));
}
