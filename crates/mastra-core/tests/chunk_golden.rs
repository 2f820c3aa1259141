//! Every chunk type against literal JSON (wire-contract §3): serialization is byte-exact and
//! parsing the literal gives the same chunk back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use mastra_core::chunk::*;
use mastra_core::{ErrorInfo, FinishReason, StepResult, ToolCallInfo, ToolResultInfo, Usage};
use serde_json::json;

fn chunk(kind: ChunkKind) -> Chunk {
    Chunk::agent("r1", kind)
}

/// Serializes to exactly `expected` and parses back to the same chunk.
fn golden(kind: ChunkKind, expected: &str) {
    let chunk = chunk(kind);
    assert_eq!(serde_json::to_string(&chunk).unwrap(), expected);
    let parsed: Chunk = serde_json::from_str(expected).unwrap();
    assert_eq!(parsed, chunk);
}

#[test]
fn start() {
    golden(
        ChunkKind::Start(StartPayload {
            id: "agent-1".into(),
            message_id: "m1".into(),
        }),
        r#"{"type":"start","runId":"r1","from":"AGENT","payload":{"id":"agent-1","messageId":"m1"}}"#,
    );
}

#[test]
fn step_start() {
    golden(
        ChunkKind::StepStart(StepStartPayload {
            message_id: Some("m1".into()),
            request: RequestInfo {
                body: Some(json!({"model": "demo"})),
            },
            warnings: Some(vec![]),
        }),
        r#"{"type":"step-start","runId":"r1","from":"AGENT","payload":{"messageId":"m1","request":{"body":{"model":"demo"}},"warnings":[]}}"#,
    );
    golden(
        ChunkKind::StepStart(StepStartPayload::default()),
        r#"{"type":"step-start","runId":"r1","from":"AGENT","payload":{"request":{}}}"#,
    );
}

fn boundary(id: &str) -> BoundaryPayload {
    BoundaryPayload {
        id: id.into(),
        provider_metadata: None,
    }
}

fn delta(id: &str, text: &str) -> DeltaPayload {
    DeltaPayload {
        id: id.into(),
        text: text.into(),
        provider_metadata: None,
    }
}

#[test]
fn text_chunks() {
    golden(
        ChunkKind::TextStart(boundary("t1")),
        r#"{"type":"text-start","runId":"r1","from":"AGENT","payload":{"id":"t1"}}"#,
    );
    golden(
        ChunkKind::TextDelta(delta("t1", "Hello \"world\"\n")),
        r#"{"type":"text-delta","runId":"r1","from":"AGENT","payload":{"id":"t1","text":"Hello \"world\"\n"}}"#,
    );
    golden(
        ChunkKind::TextEnd(BoundaryPayload {
            id: "t1".into(),
            provider_metadata: Some(json!({"openai": {}})),
        }),
        r#"{"type":"text-end","runId":"r1","from":"AGENT","payload":{"id":"t1","providerMetadata":{"openai":{}}}}"#,
    );
}

#[test]
fn reasoning_chunks() {
    golden(
        ChunkKind::ReasoningStart(boundary("r")),
        r#"{"type":"reasoning-start","runId":"r1","from":"AGENT","payload":{"id":"r"}}"#,
    );
    golden(
        ChunkKind::ReasoningDelta(delta("r", "thinking")),
        r#"{"type":"reasoning-delta","runId":"r1","from":"AGENT","payload":{"id":"r","text":"thinking"}}"#,
    );
    golden(
        ChunkKind::ReasoningEnd(boundary("r")),
        r#"{"type":"reasoning-end","runId":"r1","from":"AGENT","payload":{"id":"r"}}"#,
    );
}

#[test]
fn tool_input_streaming_chunks() {
    golden(
        ChunkKind::ToolCallInputStreamingStart(ToolInputPayload {
            tool_call_id: "c1".into(),
            tool_name: Some("weather".into()),
            args_text_delta: None,
        }),
        r#"{"type":"tool-call-input-streaming-start","runId":"r1","from":"AGENT","payload":{"toolCallId":"c1","toolName":"weather"}}"#,
    );
    golden(
        ChunkKind::ToolCallDelta(ToolInputPayload {
            tool_call_id: "c1".into(),
            tool_name: None,
            args_text_delta: Some("{\"city\":".into()),
        }),
        r#"{"type":"tool-call-delta","runId":"r1","from":"AGENT","payload":{"toolCallId":"c1","argsTextDelta":"{\"city\":"}}"#,
    );
    golden(
        ChunkKind::ToolCallInputStreamingEnd(ToolInputPayload {
            tool_call_id: "c1".into(),
            tool_name: None,
            args_text_delta: None,
        }),
        r#"{"type":"tool-call-input-streaming-end","runId":"r1","from":"AGENT","payload":{"toolCallId":"c1"}}"#,
    );
}

#[test]
fn tool_call_result_error() {
    golden(
        ChunkKind::ToolCall(ToolCallPayload {
            tool_call_id: "c1".into(),
            tool_name: "weather".into(),
            args: Some(json!({"city": "Paris"})),
            provider_executed: None,
            provider_metadata: None,
        }),
        r#"{"type":"tool-call","runId":"r1","from":"AGENT","payload":{"toolCallId":"c1","toolName":"weather","args":{"city":"Paris"}}}"#,
    );
    golden(
        ChunkKind::ToolResult(ToolResultPayload {
            tool_call_id: "c1".into(),
            tool_name: "weather".into(),
            result: json!({"temperatureC": 21}),
            is_error: None,
            args: Some(json!({"city": "Paris"})),
        }),
        r#"{"type":"tool-result","runId":"r1","from":"AGENT","payload":{"toolCallId":"c1","toolName":"weather","result":{"temperatureC":21},"args":{"city":"Paris"}}}"#,
    );
    golden(
        ChunkKind::ToolError(ToolErrorPayload {
            tool_call_id: "c1".into(),
            tool_name: "weather".into(),
            args: None,
            error: ErrorInfo::new("ToolExecutionError", "no such city"),
        }),
        r#"{"type":"tool-error","runId":"r1","from":"AGENT","payload":{"toolCallId":"c1","toolName":"weather","error":{"name":"ToolExecutionError","message":"no such city"}}}"#,
    );
}

#[test]
fn approval_and_suspension() {
    golden(
        ChunkKind::ToolCallApproval(ToolApprovalPayload {
            tool_call_id: "c1".into(),
            tool_name: "pay".into(),
            args: json!({"amount": 5}),
        }),
        r#"{"type":"tool-call-approval","runId":"r1","from":"AGENT","payload":{"toolCallId":"c1","toolName":"pay","args":{"amount":5}}}"#,
    );
    golden(
        ChunkKind::ToolCallSuspended(ToolSuspendedPayload {
            tool_call_id: "c1".into(),
            tool_name: "ask".into(),
            suspend_payload: json!({"question": "which?"}),
            args: json!({}),
        }),
        r#"{"type":"tool-call-suspended","runId":"r1","from":"AGENT","payload":{"toolCallId":"c1","toolName":"ask","suspendPayload":{"question":"which?"},"args":{}}}"#,
    );
}

#[test]
fn step_finish() {
    golden(
        ChunkKind::StepFinish(StepFinishPayload {
            step_result: StepResultInfo {
                reason: FinishReason::ToolCalls,
                warnings: vec![],
                is_continued: true,
                total_usage: None,
                message_id: None,
            },
            output: StepOutput {
                text: Some(String::new()),
                tool_calls: Some(vec![ToolCallInfo {
                    tool_call_id: "c1".into(),
                    tool_name: "weather".into(),
                    args: json!({"city": "Paris"}),
                }]),
                usage: Usage::new(5, 2),
            },
            message_id: Some("m1".into()),
        }),
        r#"{"type":"step-finish","runId":"r1","from":"AGENT","payload":{"stepResult":{"reason":"tool-calls","warnings":[],"isContinued":true},"output":{"text":"","toolCalls":[{"toolCallId":"c1","toolName":"weather","args":{"city":"Paris"}}],"usage":{"inputTokens":5,"outputTokens":2,"totalTokens":7}},"messageId":"m1"}}"#,
    );
}

#[test]
fn finish() {
    let step = StepResult {
        message_id: None,
        text: "Hi".into(),
        reasoning: String::new(),
        tool_calls: vec![],
        tool_results: vec![ToolResultInfo {
            tool_call_id: "c1".into(),
            tool_name: "t".into(),
            args: json!({}),
            result: json!(1),
            error: None,
        }],
        finish_reason: FinishReason::Stop,
        usage: Usage::new(1, 1),
    };
    golden(
        ChunkKind::Finish(FinishPayload {
            step_result: StepResultInfo {
                reason: FinishReason::Stop,
                warnings: vec![],
                is_continued: false,
                total_usage: Some(Usage::new(1, 1)),
                message_id: None,
            },
            output: FinishOutput {
                text: Some("Hi".into()),
                usage: Usage::new(1, 1),
                steps: Some(vec![step]),
            },
        }),
        r#"{"type":"finish","runId":"r1","from":"AGENT","payload":{"stepResult":{"reason":"stop","warnings":[],"isContinued":false,"totalUsage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}},"output":{"text":"Hi","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2},"steps":[{"text":"Hi","toolCalls":[],"toolResults":[{"toolCallId":"c1","toolName":"t","args":{},"result":1}],"finishReason":"stop","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}}]}}}"#,
    );
}

#[test]
fn error_abort_tripwire() {
    golden(
        ChunkKind::Error(ErrorPayload {
            error: ErrorInfo::new("ModelError", "rate limited"),
        }),
        r#"{"type":"error","runId":"r1","from":"AGENT","payload":{"error":{"name":"ModelError","message":"rate limited"}}}"#,
    );
    golden(
        ChunkKind::Abort(AbortPayload {}),
        r#"{"type":"abort","runId":"r1","from":"AGENT","payload":{}}"#,
    );
    golden(
        ChunkKind::Tripwire(TripwirePayload {
            reason: "blocked".into(),
            retry: Some(false),
            metadata: None,
        }),
        r#"{"type":"tripwire","runId":"r1","from":"AGENT","payload":{"reason":"blocked","retry":false}}"#,
    );
}

#[test]
fn data_parts() {
    golden(
        ChunkKind::Data(DataPayload {
            name: "progress".into(),
            data: json!({"pct": 50}),
            id: Some("p1".into()),
        }),
        r#"{"type":"data-progress","runId":"r1","from":"AGENT","payload":{"type":"data-progress","data":{"pct":50},"id":"p1"}}"#,
    );
}

#[test]
fn metadata_and_other_sources() {
    let mut c = chunk(ChunkKind::Abort(AbortPayload {}));
    c.from = ChunkFrom::Workflow;
    c.metadata = Some(json!({"k": 1}));
    let expected =
        r#"{"type":"abort","runId":"r1","from":"WORKFLOW","payload":{},"metadata":{"k":1}}"#;
    assert_eq!(serde_json::to_string(&c).unwrap(), expected);
    assert_eq!(serde_json::from_str::<Chunk>(expected).unwrap(), c);
}

#[test]
fn unknown_types_round_trip_and_upstream_finish_without_run_id_parses() {
    let raw = r#"{"type":"response-metadata","runId":"r1","from":"AGENT","payload":{"x":1}}"#;
    let c: Chunk = serde_json::from_str(raw).unwrap();
    assert!(matches!(c.kind, ChunkKind::Unknown { .. }));
    assert_eq!(serde_json::to_string(&c).unwrap(), raw);

    let upstream = r#"{"type":"finish","payload":{"stepResult":{"reason":"stop"},"output":{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}}}"#;
    let c: Chunk = serde_json::from_str(upstream).unwrap();
    assert!(c.is_terminal());
    assert_eq!(c.run_id, "");
}

#[test]
fn a_known_type_with_a_wrong_payload_is_an_error() {
    let raw = r#"{"type":"text-delta","runId":"r1","from":"AGENT","payload":{"id":"t1"}}"#;
    assert!(serde_json::from_str::<Chunk>(raw).is_err());
}
