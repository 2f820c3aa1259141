//! The provider against a local server replaying OpenAI's streaming wire format: streamed
//! parts, the request body, HTTP errors and retries, broken streams and cancellation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

mod support;

use futures::StreamExt;
use mastra_core::{
    ContentPart, FinishReason, LanguageModel, Message, ModelError, ModelPart, ModelRequest,
    ModelSettings, ModelStream, Role, ToolChoice, ToolDefinition, Usage,
};
use mastra_openai::OpenAiModel;
use serde_json::json;
use std::time::{Duration, Instant};
use support::{chunk, delta, finish, text_reply, usage, End, FakeServer, Reply, DONE};

const QUICK: Duration = Duration::from_secs(2);

fn model(server: &FakeServer) -> OpenAiModel {
    OpenAiModel::builder("gpt-4o-mini")
        .base_url(&server.base_url)
        .api_key("sk-test")
        .retry_base_delay(Duration::from_millis(5))
        .build()
        .unwrap()
}

fn hello() -> ModelRequest {
    ModelRequest::new(vec![Message::user("Hello")])
}

/// Every part up to the end of the stream or its first error.
async fn drain(mut stream: ModelStream) -> (Vec<ModelPart>, Option<ModelError>) {
    let mut parts = Vec::new();
    while let Some(item) = tokio::time::timeout(QUICK, stream.next()).await.unwrap() {
        match item {
            Ok(part) => parts.push(part),
            Err(error) => {
                assert!(stream.next().await.is_none(), "nothing may follow an error");
                return (parts, Some(error));
            }
        }
    }
    (parts, None)
}

async fn call(server: &FakeServer) -> (Vec<ModelPart>, Option<ModelError>) {
    drain(model(server).stream(hello()).await.unwrap()).await
}

fn text(text: &str) -> ModelPart {
    ModelPart::TextDelta(text.to_owned())
}

#[tokio::test]
async fn streams_text_then_one_finish_with_usage() {
    let server = FakeServer::start(vec![Reply::events(&text_reply(
        &["Hello", "!", " How can I help?"],
        19,
        10,
    ))])
    .await;
    let (parts, error) = call(&server).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        parts,
        vec![
            text("Hello"),
            text("!"),
            text(" How can I help?"),
            ModelPart::Finish {
                reason: FinishReason::Stop,
                usage: Usage {
                    input_tokens: 19,
                    output_tokens: 10,
                    total_tokens: 29
                },
            },
        ]
    );
}

/// Two parallel calls whose argument fragments arrive interleaved by index.
fn parallel_tool_calls() -> Vec<String> {
    let call = |index: u32, id: &str, name: &str| {
        delta(&format!(
            r#"{{"tool_calls":[{{"index":{index},"id":"{id}","type":"function","function":{{"name":"{name}","arguments":""}}}}]}}"#
        ))
    };
    let args = |index: u32, fragment: &str| {
        let fragment = serde_json::to_string(fragment).unwrap();
        delta(&format!(
            r#"{{"tool_calls":[{{"index":{index},"function":{{"arguments":{fragment}}}}}]}}"#
        ))
    };
    vec![
        delta(r#"{"role":"assistant","content":null,"refusal":null}"#),
        call(0, "call_Wz3xZ8mA", "get_weather"),
        args(0, "{\"ci"),
        call(1, "call_Q1bN7kLp", "get_time"),
        args(1, "{\"zone\""),
        args(0, "ty\": \"Paris\"}"),
        args(1, ": \"CET\"}"),
        finish("tool_calls"),
        usage(81, 52),
        DONE.to_owned(),
    ]
}

#[tokio::test]
async fn calls_share_a_pooled_connection() {
    let reply = || Reply::events(&text_reply(&["Hi"], 1, 1));
    let server = FakeServer::start(vec![reply(), reply()]).await;
    let model = model(&server);
    for _ in 0..2 {
        let (parts, error) = drain(model.stream(hello()).await.unwrap()).await;
        assert!(error.is_none() && parts.len() == 2, "{parts:?} {error:?}");
        // The pool takes the connection back on its own task.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn parallel_tool_calls_interleaved_by_index() {
    let server = FakeServer::start(vec![Reply::events(&parallel_tool_calls())]).await;
    let (parts, error) = call(&server).await;
    assert!(error.is_none(), "{error:?}");
    let (weather, time) = ("call_Wz3xZ8mA".to_owned(), "call_Q1bN7kLp".to_owned());
    let delta = |id: &String, args: &str| ModelPart::ToolCallDelta {
        id: id.clone(),
        args_delta: args.into(),
    };
    assert_eq!(
        parts,
        vec![
            ModelPart::ToolCallStart {
                id: weather.clone(),
                name: "get_weather".into()
            },
            delta(&weather, "{\"ci"),
            ModelPart::ToolCallStart {
                id: time.clone(),
                name: "get_time".into()
            },
            delta(&time, "{\"zone\""),
            delta(&weather, "ty\": \"Paris\"}"),
            delta(&time, ": \"CET\"}"),
            ModelPart::ToolCall {
                id: weather.clone(),
                name: "get_weather".into(),
                args: "{\"city\": \"Paris\"}".into()
            },
            ModelPart::ToolCall {
                id: time.clone(),
                name: "get_time".into(),
                args: "{\"zone\": \"CET\"}".into()
            },
            ModelPart::Finish {
                reason: FinishReason::ToolCalls,
                usage: Usage::new(81, 52)
            },
        ]
    );
}

#[tokio::test]
async fn request_body_maps_messages_tools_and_settings() {
    let server = FakeServer::start(vec![Reply::events(&text_reply(&["ok"], 1, 1))]).await;
    let model = OpenAiModel::builder("gpt-4o-mini")
        .base_url(format!("{}/", server.base_url))
        .api_key("sk-test")
        .header("OpenAI-Organization", "org-42")
        .build()
        .unwrap();
    let call = |id: &str, name: &str, args| ContentPart::ToolCall {
        tool_call_id: id.into(),
        tool_name: name.into(),
        args,
    };
    let result = |id: &str, name: &str, result| ContentPart::ToolResult {
        tool_call_id: id.into(),
        tool_name: name.into(),
        result,
        is_error: false,
    };
    let mut request = ModelRequest::new(vec![
        Message::system("You are a weather bot."),
        Message::user("Weather in Paris, and the time in CET?"),
        Message {
            role: Role::Assistant,
            content: vec![
                ContentPart::Reasoning {
                    text: "two tools".into(),
                },
                ContentPart::Text {
                    text: "Let me check.".into(),
                },
                call("call_1", "get_weather", json!({"city": "Paris"})),
                call("call_2", "get_time", json!({"zone": "CET"})),
            ],
        },
        Message {
            role: Role::Tool,
            content: vec![
                result("call_1", "get_weather", json!({"temp": 18})),
                result("call_2", "get_time", json!("14:05")),
            ],
        },
    ]);
    let schema =
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    request.tools = vec![
        ToolDefinition {
            name: "get_weather".into(),
            description: "Current weather in a city".into(),
            input_schema: schema.clone(),
        },
        ToolDefinition {
            name: "get_time".into(),
            description: "Current time in a zone".into(),
            input_schema: json!({"type": "object"}),
        },
    ];
    request.settings = ModelSettings {
        temperature: Some(0.2),
        top_p: None,
        max_tokens: Some(256),
        seed: Some(7),
        tool_choice: ToolChoice::Tool {
            name: "get_weather".into(),
        },
    };
    drain(model.stream(request).await.unwrap()).await;

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let headers = &requests[0].headers;
    assert_eq!(headers["authorization"], "Bearer sk-test");
    assert_eq!(headers["openai-organization"], "org-42");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        requests[0].body,
        json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are a weather bot."},
                {"role": "user", "content": "Weather in Paris, and the time in CET?"},
                {"role": "assistant", "content": "Let me check.", "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_2", "type": "function",
                     "function": {"name": "get_time", "arguments": "{\"zone\":\"CET\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\":18}"},
                {"role": "tool", "tool_call_id": "call_2", "content": "14:05"}
            ],
            "tools": [
                {"type": "function", "function": {"name": "get_weather",
                 "description": "Current weather in a city", "parameters": schema}},
                {"type": "function", "function": {"name": "get_time",
                 "description": "Current time in a zone", "parameters": {"type": "object"}}}
            ],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "temperature": 0.2,
            "max_tokens": 256,
            "seed": 7,
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

#[tokio::test]
async fn bad_request_fails_at_once_with_the_providers_message() {
    let body = r#"{"error":{"message":"Invalid value for 'tool_choice': no function named 'nope'.","type":"invalid_request_error","param":"tool_choice","code":null}}"#;
    let server = FakeServer::start(vec![
        Reply::error(400, body),
        Reply::events(&text_reply(&["unused"], 1, 1)),
    ])
    .await;
    let error = model(&server).stream(hello()).await.err().unwrap();
    assert!(!error.is_retryable());
    match error {
        ModelError::Status { status, message } => {
            assert_eq!(status, 400);
            assert_eq!(
                message,
                "Invalid value for 'tool_choice': no function named 'nope'."
            );
        }
        other => panic!("expected a status error, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1, "a 400 must not be retried");
}

#[tokio::test]
async fn rate_limit_is_retried_after_the_servers_delay() {
    let limited = Reply::Status {
        status: 429,
        headers: vec![("retry-after", "0.05".into())],
        body: r#"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#.into(),
    };
    let server = FakeServer::start(vec![limited, Reply::events(&text_reply(&["hi"], 5, 1))]).await;
    // A backoff this long would time the test out: only `Retry-After` makes it quick.
    let model = OpenAiModel::builder("gpt-4o-mini")
        .base_url(&server.base_url)
        .retry_base_delay(Duration::from_secs(30))
        .max_retry_delay(Duration::from_secs(30))
        .build()
        .unwrap();
    let stream = tokio::time::timeout(QUICK, model.stream(hello()))
        .await
        .expect("Retry-After was not honoured")
        .unwrap();
    let (parts, error) = drain(stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(parts[0], text("hi"));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn server_errors_give_up_after_max_retries() {
    let failure = || {
        Reply::error(
            500,
            r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#,
        )
    };
    let server = FakeServer::start(vec![
        failure(),
        failure(),
        failure(),
        Reply::events(&text_reply(&["too late"], 1, 1)),
    ])
    .await;
    let error = model(&server).stream(hello()).await.err().unwrap();
    assert!(error.is_retryable());
    assert!(
        matches!(&error, ModelError::Status { status: 500, message } if message.starts_with("The server had an error")),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 3, "one call and two retries");
}

#[tokio::test]
async fn unreachable_server_is_a_retryable_connection_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let model = OpenAiModel::builder("gpt-4o-mini")
        .base_url(format!("http://{address}/v1"))
        .retry_base_delay(Duration::from_millis(1))
        .build()
        .unwrap();
    let error = model.stream(hello()).await.err().unwrap();
    assert!(matches!(error, ModelError::Connection(_)), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn broken_connection_mid_stream_is_disconnected_and_not_retried() {
    let mut events = text_reply(&["Once", " upon"], 1, 1);
    events.truncate(3); // role chunk and two words: no finish, no [DONE]
    let pieces = events.iter().map(|e| e.clone().into()).collect();
    let server = FakeServer::start(vec![
        // Paced, so the words are on the wire before the break (an immediate break would
        // come before the headers, and a retry would then be right).
        Reply::Stream {
            pieces,
            pause: Duration::from_millis(5),
            end: End::Break,
        },
        Reply::events(&text_reply(&["unused"], 1, 1)),
    ])
    .await;
    let (parts, error) = call(&server).await;
    assert_eq!(parts, vec![text("Once"), text(" upon")]);
    let error = error.expect("an error after the break");
    assert!(matches!(error, ModelError::Disconnected(_)), "{error:?}");
    assert_eq!(server.requests().len(), 1, "never retried once streaming");
}

#[tokio::test]
async fn clean_close_before_finish_is_disconnected() {
    let mut events = text_reply(&["Once"], 1, 1);
    events.truncate(2);
    let server = FakeServer::start(vec![Reply::events(&events)]).await;
    let (parts, error) = call(&server).await;
    assert_eq!(parts, vec![text("Once")]);
    assert!(
        matches!(error, Some(ModelError::Disconnected(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn close_after_finish_without_done_still_finishes() {
    let mut events = text_reply(&["Hi"], 4, 2);
    events.pop(); // no [DONE]
    let server = FakeServer::start(vec![Reply::events(&events)]).await;
    let (parts, error) = call(&server).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        parts.last(),
        Some(&ModelPart::Finish {
            reason: FinishReason::Stop,
            usage: Usage::new(4, 2)
        })
    );
}

#[tokio::test]
async fn invalid_json_event_is_malformed() {
    let events = [
        delta(r#"{"content":"Hi"}"#),
        "data: {\"id\":\"chatcmpl-x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\n\n"
            .to_owned(),
        finish("stop"),
        DONE.to_owned(),
    ];
    // One write: the text decoded before the bad event must still come out first.
    let server = FakeServer::start(vec![Reply::in_pieces(
        &events.concat(),
        usize::MAX,
        Duration::ZERO,
    )])
    .await;
    let (parts, error) = call(&server).await;
    assert_eq!(parts, vec![text("Hi")]);
    assert!(matches!(error, Some(ModelError::Malformed(_))), "{error:?}");
}

#[tokio::test]
async fn error_event_mid_stream_carries_the_message() {
    let events = vec![
        delta(r#"{"content":"Hi"}"#),
        "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n".to_owned(),
    ];
    let server = FakeServer::start(vec![Reply::events(&events)]).await;
    let (parts, error) = call(&server).await;
    assert_eq!(parts, vec![text("Hi")]);
    let error = error.expect("the error event");
    assert!(error.is_retryable());
    assert!(
        error.to_string().contains("The server had an error"),
        "{error}"
    );
}

#[tokio::test]
async fn json_answer_instead_of_a_stream_is_malformed() {
    let body = r#"{"id":"chatcmpl-x","object":"chat.completion","choices":[]}"#;
    let server = FakeServer::start(vec![Reply::error(200, body)]).await;
    let error = model(&server).stream(hello()).await.err().unwrap();
    assert!(matches!(error, ModelError::Malformed(_)), "{error:?}");
}

#[tokio::test]
async fn events_split_across_tcp_writes_with_crlf() {
    let mut events = text_reply(&["Split", " é", " 🎉"], 3, 3);
    events.splice(1..1, parallel_tool_calls()[1..7].iter().cloned());
    events.insert(0, ": OPENROUTER PROCESSING\n\n".to_owned());
    let wire = events.concat().replace('\n', "\r\n");
    let server =
        FakeServer::start(vec![Reply::in_pieces(&wire, 23, Duration::from_millis(1))]).await;
    let (parts, error) = call(&server).await;
    assert!(error.is_none(), "{error:?}");
    let texts: String = parts
        .iter()
        .filter_map(|p| match p {
            ModelPart::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, "Split é 🎉");
    let calls: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            ModelPart::ToolCall { args, .. } => Some(args.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(calls, ["{\"city\": \"Paris\"}", "{\"zone\": \"CET\"}"]);
    assert!(matches!(parts.last(), Some(ModelPart::Finish { .. })));
}

/// A stream that sends one word and then nothing, holding the connection open.
fn hanging() -> Reply {
    let mut events = text_reply(&["Thinking"], 1, 1);
    events.truncate(2);
    Reply::Stream {
        pieces: events.into_iter().map(Into::into).collect(),
        pause: Duration::ZERO,
        end: End::Hang,
    }
}

#[tokio::test]
async fn abort_mid_stream_stops_and_closes_the_connection() {
    let server = FakeServer::start(vec![hanging()]).await;
    let request = hello();
    let abort = request.abort.clone();
    let mut stream = model(&server).stream(request).await.unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), text("Thinking"));
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        abort.abort();
    });
    let next = tokio::time::timeout(QUICK, stream.next()).await.unwrap();
    assert!(matches!(next, Some(Err(ModelError::Aborted))), "{next:?}");
    assert!(stream.next().await.is_none());
    assert!(
        server.body_dropped(QUICK).await,
        "the connection stayed open"
    );
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let server = FakeServer::start(vec![hanging()]).await;
    let mut stream = model(&server).stream(hello()).await.unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), text("Thinking"));
    drop(stream);
    assert!(
        server.body_dropped(QUICK).await,
        "the connection stayed open"
    );
}

#[tokio::test]
async fn abort_while_waiting_for_the_answer() {
    let slow = Reply::Delayed(Duration::from_secs(30), Box::new(hanging()));
    let server = FakeServer::start(vec![slow]).await;
    let request = hello();
    let abort = request.abort.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        abort.abort();
    });
    let started = Instant::now();
    let result = model(&server).stream(request).await;
    assert!(matches!(result, Err(ModelError::Aborted)));
    assert!(started.elapsed() < QUICK);
}

#[tokio::test]
async fn abort_during_backoff() {
    let limited = Reply::Status {
        status: 429,
        headers: vec![("retry-after", "20".into())],
        body: r#"{"error":{"message":"slow down","type":"requests"}}"#.into(),
    };
    let server = FakeServer::start(vec![limited]).await;
    let model = OpenAiModel::builder("gpt-4o-mini")
        .base_url(&server.base_url)
        .max_retry_delay(Duration::from_secs(30))
        .build()
        .unwrap();
    let request = hello();
    let abort = request.abort.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        abort.abort();
    });
    let started = Instant::now();
    let result = model.stream(request).await;
    assert!(matches!(result, Err(ModelError::Aborted)));
    assert!(started.elapsed() < QUICK);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_aborted_request_is_never_sent() {
    let server = FakeServer::start(vec![]).await;
    let request = hello();
    request.abort.abort();
    let result = model(&server).stream(request).await;
    assert!(matches!(result, Err(ModelError::Aborted)));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn reasoning_deltas_from_compatible_servers() {
    let events = vec![
        delta(r#"{"role":"assistant","content":null,"reasoning_content":"Let me think."}"#),
        delta(r#"{"content":null,"reasoning":" Done."}"#),
        delta(r#"{"content":"42"}"#),
        chunk(r#"[{"index":0,"delta":{},"finish_reason":"length"}]"#),
        DONE.to_owned(),
    ];
    let server = FakeServer::start(vec![Reply::events(&events)]).await;
    let (parts, error) = call(&server).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        parts,
        vec![
            ModelPart::ReasoningDelta("Let me think.".into()),
            ModelPart::ReasoningDelta(" Done.".into()),
            text("42"),
            ModelPart::Finish {
                reason: FinishReason::Length,
                usage: Usage::default()
            },
        ]
    );
}

#[tokio::test]
async fn slow_answer_times_out_as_a_retryable_connection_error() {
    let slow = || Reply::Delayed(Duration::from_secs(30), Box::new(hanging()));
    let server = FakeServer::start(vec![slow(), slow()]).await;
    let model = OpenAiModel::builder("gpt-4o-mini")
        .base_url(&server.base_url)
        .timeout(Duration::from_millis(100))
        .max_retries(1)
        .retry_base_delay(Duration::from_millis(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = model.stream(hello()).await.err().unwrap();
    assert!(matches!(error, ModelError::Connection(_)), "{error:?}");
    assert!(error.is_retryable());
    assert!(started.elapsed() < QUICK);
    assert_eq!(server.requests().len(), 2, "timed-out attempts are retried");
}

#[tokio::test]
async fn stalled_stream_is_disconnected_after_the_idle_timeout() {
    let server = FakeServer::start(vec![hanging()]).await;
    let model = OpenAiModel::builder("gpt-4o-mini")
        .base_url(&server.base_url)
        .stream_idle_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let (parts, error) = drain(model.stream(hello()).await.unwrap()).await;
    assert_eq!(parts, vec![text("Thinking")]);
    assert!(
        matches!(error, Some(ModelError::Disconnected(_))),
        "{error:?}"
    );
}
