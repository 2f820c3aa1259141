//! Serializable run state: everything needed to continue a run between steps.
//!
//! Live objects (the model client, tool implementations, callbacks, the abort signal) are not
//! part of it; they are resolved by agent id, so another process with the same agent
//! registered can load a `RunState` and take the next step.

use crate::{
    AgentError, FinishReason, Message, ModelSettings, StepResult, ToolCallInfo, ToolResultInfo,
    Usage,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// Every tool call needs a person's approval, whatever the tool says.
    #[serde(default)]
    pub require_tool_approval: bool,
    /// A model step whose tool calls have not run yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The run's trace context, a W3C `traceparent` (see [`trace`](super::trace)): every
    /// stretch of the run joins this trace. Absent in states stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
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
    /// A person's decision, for a call that needs approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// The payload the tool suspended with, while it waits to be resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend_payload: Option<Value>,
    /// Data handed to the tool when it is resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_data: Option<Value>,
    /// The outcome, once the call has run: it never runs again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ToolResultInfo>,
}

impl PendingCall {
    /// A call that has not run yet.
    pub fn new(info: ToolCallInfo, args_error: Option<String>) -> Self {
        Self {
            info,
            args_error,
            approval: None,
            suspend_payload: None,
            resume_data: None,
            result: None,
        }
    }
}

/// A person's answer to a `tool-call-approval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    Approved,
    Declined,
}

/// Why a run paused: a tool call waits for approval, or a tool suspended itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuspensionKind {
    Approval,
    Suspension,
}

/// One reason a run is paused; serialized as the data of a `suspended` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suspension {
    pub tool_call_id: String,
    pub tool_name: String,
    pub args: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend_payload: Option<Value>,
    #[serde(rename = "type")]
    pub kind: SuspensionKind,
}

impl RunState {
    /// The calls the run waits on, once a step returned [`StepProgress::Suspended`] (before
    /// that, calls not yet run are not told apart from calls waiting for approval).
    pub fn suspensions(&self) -> Vec<Suspension> {
        self.pending
            .as_ref()
            .map(|p| p.suspensions(|c| p.awaits_approval(c)))
            .unwrap_or_default()
    }

    /// Records a person's decision on a call waiting for approval.
    pub fn decide(&mut self, tool_call_id: &str, approval: Approval) -> Result<(), AgentError> {
        let call = self.open_call(tool_call_id)?;
        if call.suspend_payload.is_some() {
            return Err(AgentError::InvalidResume(format!(
                "tool call `{tool_call_id}` is suspended, not waiting for approval: resume it"
            )));
        }
        call.approval = Some(approval);
        Ok(())
    }

    /// Hands resume data to a suspended call (or to the only one, when no id is given).
    pub fn resume_call(
        &mut self,
        tool_call_id: Option<&str>,
        data: Value,
    ) -> Result<(), AgentError> {
        let id = match tool_call_id {
            Some(id) => id.to_owned(),
            None => {
                let waiting: Vec<String> = self
                    .suspensions()
                    .into_iter()
                    .filter(|s| s.kind == SuspensionKind::Suspension)
                    .map(|s| s.tool_call_id)
                    .collect();
                match waiting.as_slice() {
                    [only] => only.clone(),
                    [] => {
                        return Err(AgentError::InvalidResume(
                            "the run has no suspended tool call".into(),
                        ))
                    }
                    _ => {
                        return Err(AgentError::InvalidResume(
                            "several tool calls are suspended: name one".into(),
                        ))
                    }
                }
            }
        };
        let call = self.open_call(&id)?;
        if call.suspend_payload.is_none() {
            // A call waiting for approval may be resumed too: that approves it with data.
            call.approval.get_or_insert(Approval::Approved);
        }
        call.resume_data = Some(data);
        Ok(())
    }

    fn open_call(&mut self, tool_call_id: &str) -> Result<&mut PendingCall, AgentError> {
        self.pending
            .as_mut()
            .and_then(|p| {
                p.calls
                    .iter_mut()
                    .find(|c| c.info.tool_call_id == tool_call_id)
            })
            .filter(|c| c.result.is_none())
            .ok_or_else(|| {
                AgentError::InvalidResume(format!(
                    "no tool call `{tool_call_id}` is waiting in this run"
                ))
            })
    }
}

impl PendingStep {
    /// The calls that cannot run yet: suspended ones without resume data, and those for which
    /// `needs_approval` holds and no decision was made.
    pub fn suspensions(&self, needs_approval: impl Fn(&PendingCall) -> bool) -> Vec<Suspension> {
        self.calls
            .iter()
            .filter(|c| c.result.is_none())
            .filter_map(|c| {
                let kind = match (&c.suspend_payload, &c.resume_data) {
                    (Some(_), None) => SuspensionKind::Suspension,
                    (Some(_), Some(_)) => return None,
                    (None, _) if c.approval.is_none() && needs_approval(c) => {
                        SuspensionKind::Approval
                    }
                    (None, _) => return None,
                };
                Some(Suspension {
                    tool_call_id: c.info.tool_call_id.clone(),
                    tool_name: c.info.tool_name.clone(),
                    args: c.info.args.clone(),
                    suspend_payload: c.suspend_payload.clone(),
                    kind,
                })
            })
            .collect()
    }

    /// Without the agent at hand: a call still waiting after a tool pass, with no result,
    /// no decision and no suspension, can only be waiting for approval.
    fn awaits_approval(&self, call: &PendingCall) -> bool {
        call.result.is_none() && call.approval.is_none()
    }

    /// Whether every call has its result.
    pub fn is_complete(&self) -> bool {
        self.calls.iter().all(|c| c.result.is_some())
    }

    /// The completed step, once its tools have answered.
    pub fn into_result(self) -> StepResult {
        let (tool_calls, tool_results) = self
            .calls
            .into_iter()
            .map(|c| (c.info, c.result))
            .unzip::<_, _, Vec<ToolCallInfo>, Vec<Option<ToolResultInfo>>>();
        StepResult {
            message_id: Some(self.message_id),
            text: self.text,
            reasoning: self.reasoning,
            tool_calls,
            tool_results: tool_results.into_iter().flatten().collect(),
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
    /// The run waits for approvals or resume data; no terminal chunk was emitted. Record the
    /// answers in the state ([`RunState::decide`], [`RunState::resume_call`]) and step again.
    Suspended(Vec<Suspension>),
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
            require_tool_approval: false,
            pending: Some(PendingStep {
                message_id: "m".into(),
                text: String::new(),
                reasoning: String::new(),
                reason: FinishReason::ToolCalls,
                usage: Usage::new(1, 2),
                calls: vec![PendingCall::new(
                    ToolCallInfo {
                        tool_call_id: "c".into(),
                        tool_name: "t".into(),
                        args: json!({"x": 1}),
                    },
                    None,
                )],
            }),
            thread_id: Some("th".into()),
            resource_id: None,
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        };
        let text = serde_json::to_string(&state).unwrap();
        assert!(
            text.contains(r#""calls":[{"toolCallId":"c","toolName":"t","args":{"x":1}}]"#),
            "{text}"
        );
        assert!(text.contains(r#""traceparent":"00-4bf92f"#), "{text}");
        let back: RunState = serde_json::from_str(&text).unwrap();
        assert_eq!(back, state);
    }

    #[test]
    fn a_state_stored_without_a_trace_context_still_loads() {
        let old = json!({
            "runId": "r", "agentId": "a", "messages": [], "maxSteps": 3, "started": true
        });
        let state: RunState = serde_json::from_value(old).unwrap();
        assert_eq!(state.traceparent, None);
        let text = serde_json::to_string(&state).unwrap();
        assert!(!text.contains("traceparent"), "{text}");
    }
}
