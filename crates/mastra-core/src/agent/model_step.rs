//! One model call: streams the model's parts out as chunks and gathers the step.

use super::run::{new_id, RunExecutor};
use super::sink::{ChunkSink, SinkClosed};
use super::state::{PendingCall, PendingStep};
use crate::chunk::{
    BoundaryPayload, ChunkKind, DeltaPayload, StepStartPayload, ToolCallPayload, ToolInputPayload,
};
use crate::{FinishReason, ModelError, ModelPart, ModelRequest, ToolCallInfo, Usage};
use futures::StreamExt;
use serde_json::Value;

pub(super) enum StepOutcome {
    Done(PendingStep),
    Aborted,
    Failed(ModelError),
}

/// Which text-like block is open, so that it is closed before anything else starts.
enum OpenBlock {
    None,
    Text(String),
    Reasoning(String),
}

impl<S: ChunkSink> RunExecutor<S> {
    pub(super) async fn model_step(&mut self) -> Result<StepOutcome, SinkClosed> {
        let mut draft = PendingStep {
            message_id: new_id(),
            text: String::new(),
            reasoning: String::new(),
            reason: FinishReason::Other,
            usage: Usage::default(),
            calls: Vec::new(),
        };
        let start = StepStartPayload {
            message_id: Some(draft.message_id.clone()),
            warnings: Some(Vec::new()),
            ..StepStartPayload::default()
        };
        self.emit(ChunkKind::StepStart(start)).await?;

        let request = ModelRequest {
            messages: self.state.messages.clone(),
            tools: self.agent.tools.iter().map(|t| t.definition()).collect(),
            settings: self.state.settings.clone(),
            abort: self.abort.child(),
        };
        let abort = self.abort.clone();
        let model = self.agent.model.clone();
        let mut parts = tokio::select! {
            biased;
            _ = abort.aborted() => return Ok(StepOutcome::Aborted),
            started = model.stream(request) => match started {
                Ok(parts) => parts,
                Err(error) => return Ok(StepOutcome::Failed(error)),
            },
        };

        let mut open = OpenBlock::None;
        let mut streaming_calls: Vec<String> = Vec::new();
        loop {
            let part = tokio::select! {
                biased;
                _ = abort.aborted() => {
                    self.close_block(&mut open).await?;
                    return Ok(StepOutcome::Aborted);
                }
                part = parts.next() => part,
            };
            let part = match part {
                Some(Ok(part)) => part,
                Some(Err(error)) => return Ok(StepOutcome::Failed(error)),
                None => {
                    let message = "the model stream ended without a finish part".to_owned();
                    return Ok(StepOutcome::Failed(ModelError::Disconnected(message)));
                }
            };
            match part {
                ModelPart::TextDelta(text) => {
                    let id = self.open_block(&mut open, false, &draft.message_id).await?;
                    draft.text.push_str(&text);
                    self.state.text.push_str(&text);
                    let delta = DeltaPayload {
                        id,
                        text,
                        provider_metadata: None,
                    };
                    self.emit(ChunkKind::TextDelta(delta)).await?;
                }
                ModelPart::ReasoningDelta(text) => {
                    let id = self.open_block(&mut open, true, &draft.message_id).await?;
                    draft.reasoning.push_str(&text);
                    let delta = DeltaPayload {
                        id,
                        text,
                        provider_metadata: None,
                    };
                    self.emit(ChunkKind::ReasoningDelta(delta)).await?;
                }
                ModelPart::ToolCallStart { id, name } => {
                    self.close_block(&mut open).await?;
                    streaming_calls.push(id.clone());
                    let payload = ToolInputPayload {
                        tool_call_id: id,
                        tool_name: Some(name),
                        args_text_delta: None,
                    };
                    self.emit(ChunkKind::ToolCallInputStreamingStart(payload))
                        .await?;
                }
                ModelPart::ToolCallDelta { id, args_delta } => {
                    let payload = ToolInputPayload {
                        tool_call_id: id,
                        tool_name: None,
                        args_text_delta: Some(args_delta),
                    };
                    self.emit(ChunkKind::ToolCallDelta(payload)).await?;
                }
                ModelPart::ToolCall { id, name, args } => {
                    self.close_block(&mut open).await?;
                    if let Some(pos) = streaming_calls.iter().position(|c| *c == id) {
                        streaming_calls.swap_remove(pos);
                        let payload = ToolInputPayload {
                            tool_call_id: id.clone(),
                            tool_name: None,
                            args_text_delta: None,
                        };
                        self.emit(ChunkKind::ToolCallInputStreamingEnd(payload))
                            .await?;
                    }
                    let call = parse_call(id, name, &args);
                    let payload = ToolCallPayload {
                        tool_call_id: call.info.tool_call_id.clone(),
                        tool_name: call.info.tool_name.clone(),
                        args: Some(call.info.args.clone()),
                        provider_executed: None,
                        provider_metadata: None,
                    };
                    self.emit(ChunkKind::ToolCall(payload)).await?;
                    draft.calls.push(call);
                }
                ModelPart::Finish { reason, usage } => {
                    self.close_block(&mut open).await?;
                    draft.reason = reason;
                    draft.usage = usage;
                    return Ok(StepOutcome::Done(draft));
                }
            }
        }
    }

    /// Makes sure a block of the wanted kind is open, and returns its id.
    async fn open_block(
        &mut self,
        open: &mut OpenBlock,
        reasoning: bool,
        message_id: &str,
    ) -> Result<String, SinkClosed> {
        match open {
            OpenBlock::Text(id) if !reasoning => return Ok(id.clone()),
            OpenBlock::Reasoning(id) if reasoning => return Ok(id.clone()),
            _ => self.close_block(open).await?,
        }
        let id = if reasoning {
            format!("{message_id}-reasoning")
        } else {
            message_id.to_owned()
        };
        let payload = BoundaryPayload {
            id: id.clone(),
            provider_metadata: None,
        };
        if reasoning {
            self.emit(ChunkKind::ReasoningStart(payload)).await?;
            *open = OpenBlock::Reasoning(id.clone());
        } else {
            self.emit(ChunkKind::TextStart(payload)).await?;
            *open = OpenBlock::Text(id.clone());
        }
        Ok(id)
    }

    async fn close_block(&mut self, open: &mut OpenBlock) -> Result<(), SinkClosed> {
        match std::mem::replace(open, OpenBlock::None) {
            OpenBlock::None => Ok(()),
            OpenBlock::Text(id) => {
                let payload = BoundaryPayload {
                    id,
                    provider_metadata: None,
                };
                self.emit(ChunkKind::TextEnd(payload)).await
            }
            OpenBlock::Reasoning(id) => {
                let payload = BoundaryPayload {
                    id,
                    provider_metadata: None,
                };
                self.emit(ChunkKind::ReasoningEnd(payload)).await
            }
        }
    }
}

/// Parses the model's raw argument text; empty text means no arguments.
fn parse_call(id: String, name: String, args: &str) -> PendingCall {
    let (args, args_error) = if args.trim().is_empty() {
        (Value::Object(Default::default()), None)
    } else {
        match serde_json::from_str(args) {
            Ok(value) => (value, None),
            Err(e) => (
                Value::String(args.to_owned()),
                Some(format!("arguments are not valid JSON: {e}")),
            ),
        }
    };
    PendingCall::new(
        ToolCallInfo {
            tool_call_id: id,
            tool_name: name,
            args,
        },
        args_error,
    )
}
