//! End to end: a `mastra_core::Agent` driving this provider against the fake server, through a
//! tool-call step and a text step.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

mod support;

use mastra_core::tool::{tool, ToolContext};
use mastra_core::{Agent, FinishReason, StreamOptions, ToolError, Usage};
use mastra_openai::OpenAiModel;
use serde::Deserialize;
use serde_json::json;
use std::sync::{Arc, Mutex};
use support::{delta, finish, text_reply, usage, FakeServer, Reply, DONE};

#[derive(Deserialize, schemars::JsonSchema)]
struct AddInput {
    a: f64,
    b: f64,
}

fn tool_call_step() -> Vec<String> {
    vec![
        delta(
            r#"{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_add_1","type":"function","function":{"name":"add","arguments":""}}],"refusal":null}"#,
        ),
        delta(r#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\": 2,"}}]}"#),
        delta(r#"{"tool_calls":[{"index":0,"function":{"arguments":" \"b\": 3}"}}]}"#),
        finish("tool_calls"),
        usage(60, 18),
        DONE.to_owned(),
    ]
}

#[tokio::test]
async fn agent_runs_a_tool_step_then_a_text_step() {
    let server = FakeServer::start(vec![
        Reply::events(&tool_call_step()),
        Reply::events(&text_reply(&["2 + 3", " = 5."], 90, 7)),
    ])
    .await;
    let model = OpenAiModel::builder("gpt-4o-mini")
        .base_url(&server.base_url)
        .api_key("sk-test")
        .build()
        .unwrap();
    let add = tool(
        "add",
        "Adds two numbers",
        |input: AddInput, _ctx: ToolContext| async move { Ok::<_, ToolError>(input.a + input.b) },
    );
    let agent = Agent::builder("calculator", model)
        .instructions("Use the add tool for arithmetic.")
        .tool(add)
        .build();

    let chunk_types = Arc::new(Mutex::new(Vec::new()));
    let seen = chunk_types.clone();
    let options = StreamOptions::new()
        .on_chunk(move |chunk| seen.lock().unwrap().push(chunk.type_name().into_owned()));
    let output = agent.generate("What is 2 + 3?", options).await.unwrap();

    assert_eq!(output.text, "2 + 3 = 5.");
    assert_eq!(output.finish_reason, FinishReason::Stop);
    assert_eq!(output.steps.len(), 2);
    assert_eq!(output.tool_calls[0].args, json!({"a": 2, "b": 3}));
    assert_eq!(output.tool_results[0].result, json!(5.0));
    assert_eq!(output.usage, Usage::new(150, 25));

    let types = chunk_types.lock().unwrap().clone();
    for expected in [
        "tool-call-input-streaming-start",
        "tool-call-delta",
        "tool-call-input-streaming-end",
        "tool-call",
        "tool-result",
        "text-delta",
        "finish",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "no {expected} in {types:?}"
        );
    }

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body["tools"][0]["function"]["name"],
        json!("add")
    );
    assert_eq!(
        requests[1].body["messages"],
        json!([
            {"role": "system", "content": "Use the add tool for arithmetic."},
            {"role": "user", "content": "What is 2 + 3?"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_add_1", "type": "function",
                 "function": {"name": "add", "arguments": "{\"a\":2,\"b\":3}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_add_1", "content": "5.0"}
        ])
    );
}
