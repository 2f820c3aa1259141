//! Serializable run state: everything needed to continue a run between steps.
//!
//! Live objects (the model client, tool implementations, callbacks, the abort signal) are not
//! part of it; they are resolved by agent id, so another process with the same agent
//! registered can load a `RunState` and take the next step.

use crate::{
    FinishReason, Message, ModelSettings, StepResult, ToolCallInfo, ToolResultInfo, Usage,
};
use serde::{Deserialize, Serialize};

/// The state of a run between two steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunState {
    pub run_id: String,
    pub agent_id: String,
    /// The conversation so far, instructions first.
    pub messages: Vec<Message>,
    pub max_steps: u32,
    #[serde(default)]
    pub settings: ModelSettings,
    /// Completed steps.
    #[serde(default)]
    pub steps: Vec<StepResult>,
    /// Usage summed over completed steps.
    #[serde(default)]
    pub usage: Usage,
    /// Text of every step so far.
    #[serde(default)]
    pub text: String,
    /// Whether the `start` chunk went out.
    #[serde(default)]
    pub started: bool,
    /// A model step whose tool calls have not run yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

/// What a model step produced, waiting for its tool calls to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingStep {
    pub message_id: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub reasoning: String,
    pub reason: FinishReason,
    #[serde(default)]
    pub usage: Usage,
    #[serde(default)]
    pub calls: Vec<PendingCall>,
}

/// A tool call as the model wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingCall {
    #[serde(flatten)]
    pub info: ToolCallInfo,
    /// Set when the model's argument text was not JSON; the call becomes a `tool-error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_error: Option<String>,
}

impl PendingStep {
    /// The completed step, once its tools have answered.
    pub fn into_result(self, tool_results: Vec<ToolResultInfo>) -> StepResult {
        StepResult {
            message_id: Some(self.message_id),
            text: self.text,
            reasoning: self.reasoning,
            tool_calls: self.calls.into_iter().map(|c| c.info).collect(),
            tool_results,
            finish_reason: self.reason,
            usage: self.usage,
        }
    }
}

/// Where a run stands after one step.
#[derive(Debug)]
#[non_exhaustive]
pub enum StepProgress {
    /// More steps to take; the state is consistent and may be persisted.
    Continue,
    /// The run emitted its terminal chunk.
    Done(Result<crate::AgentOutput, crate::AgentError>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn run_state_round_trips_through_json() {
        let state = RunState {
            run_id: "r".into(),
            agent_id: "a".into(),
            messages: vec![Message::system("be brief"), Message::user("hi")],
            max_steps: 5,
            settings: ModelSettings::default(),
            steps: vec![],
            usage: Usage::new(1, 2),
            text: "so far".into(),
            started: true,
            pending: Some(PendingStep {
                message_id: "m".into(),
                text: String::new(),
                reasoning: String::new(),
                reason: FinishReason::ToolCalls,
                usage: Usage::new(1, 2),
                calls: vec![PendingCall {
                    info: ToolCallInfo {
                        tool_call_id: "c".into(),
                        tool_name: "t".into(),
                        args: json!({"x": 1}),
                    },
                    args_error: None,
                }],
            }),
            thread_id: Some("th".into()),
            resource_id: None,
        };
        let text = serde_json::to_string(&state).unwrap();
        assert!(
            text.contains(r#""calls":[{"toolCallId":"c","toolName":"t","args":{"x":1}}]"#),
            "{text}"
        );
        let back: RunState = serde_json::from_str(&text).unwrap();
        assert_eq!(back, state);
    }
}
