use super::*;

fn decode(events: &[&str]) -> Result<Vec<ModelPart>, ModelError> {
    let mut decoder = Decoder::new();
    let mut out = VecDeque::new();
    for event in events {
        if decoder.event(event, &mut out)? == Progress::Done {
            return Ok(out.into());
        }
    }
    decoder.end_of_body(&mut out)?;
    Ok(out.into())
}

#[test]
fn calls_without_index_and_stop_reason_still_continue_the_loop() {
    let parts = decode(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"name":"g","arguments":"{\"x\""}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":":1}"}}]}}]}"#,
        r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
    ])
    .unwrap();
    let calls: Vec<_> = parts
        .iter()
        .filter_map(|p| match p {
            ModelPart::ToolCall { id, args, .. } => Some((id.as_str(), args.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(calls, vec![("a", "{}"), ("b", "{\"x\":1}")]);
    assert_eq!(
        parts.last(),
        Some(&ModelPart::Finish {
            reason: FinishReason::ToolCalls,
            usage: Usage::default()
        })
    );
}

#[test]
fn fragments_before_the_name_are_replayed_after_the_start() {
    let parts = decode(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"arguments":"{\"a\""}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":":2}"}}]}}]}"#,
        "[DONE]",
    ])
    .unwrap();
    assert_eq!(
        parts[..2],
        [
            ModelPart::ToolCallStart {
                id: "c".into(),
                name: "f".into()
            },
            ModelPart::ToolCallDelta {
                id: "c".into(),
                args_delta: "{\"a\":2}".into()
            },
        ]
    );
    assert!(matches!(&parts[2], ModelPart::ToolCall { args, .. } if args == "{\"a\":2}"));
    assert!(matches!(
        parts[3],
        ModelPart::Finish {
            reason: FinishReason::ToolCalls,
            ..
        }
    ));
}

#[test]
fn a_call_without_a_name_is_malformed() {
    let result = decode(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
    ]);
    assert!(matches!(result, Err(ModelError::Malformed(_))));
}

#[test]
fn reasoning_refusal_and_unknown_reasons() {
    let parts = decode(&[
        r#"{"choices":[{"delta":{"reasoning_content":"hm","reasoning":"hm"}}]}"#,
        r#"{"choices":[{"delta":{"reasoning":"ok"}}]}"#,
        r#"{"choices":[{"delta":{"content":null,"refusal":"no"}}]}"#,
        r#"{"choices":[{"index":1,"delta":{"content":"other choice"}}]}"#,
        r#"{"choices":[{"delta":{},"finish_reason":"eos"}],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
    ])
    .unwrap();
    assert_eq!(
        parts,
        vec![
            ModelPart::ReasoningDelta("hm".into()),
            ModelPart::ReasoningDelta("ok".into()),
            ModelPart::TextDelta("no".into()),
            ModelPart::Finish {
                reason: FinishReason::Other,
                usage: Usage::new(3, 4)
            },
        ]
    );
}

#[test]
fn done_without_a_reason_still_finishes_but_a_bare_end_does_not() {
    let parts = decode(&[r#"{"choices":[{"delta":{"content":"hi"}}]}"#, "[DONE]"]).unwrap();
    assert!(matches!(
        parts[1],
        ModelPart::Finish {
            reason: FinishReason::Other,
            ..
        }
    ));
    let cut = decode(&[r#"{"choices":[{"delta":{"content":"hi"}}]}"#]);
    assert!(matches!(cut, Err(ModelError::Disconnected(_))));
}
