//! The multi-step loop: model step, tool calls, next step, until the model stops, `max_steps`
//! is reached, the run is aborted or something fails. Exactly one terminal chunk per run.

use super::model_step::StepOutcome;
use super::options::Callback;
use super::sink::{ChunkSink, SinkClosed};
use super::{AgentInner, Callbacks};
use crate::chunk::{
    ChunkKind, ErrorPayload, FinishOutput, FinishPayload, StartPayload, StepFinishPayload,
    StepOutput, StepResultInfo,
};
use crate::{
    AbortSignal, AgentError, AgentOutput, Chunk, ContentPart, FinishReason, Message, ModelSettings,
    Role, StepResult, Usage,
};
use std::sync::Arc;

/// The state of one run, owned by the task executing it.
pub(crate) struct RunLoop<S> {
    pub(super) agent: Arc<AgentInner>,
    pub(super) run_id: String,
    pub(super) messages: Vec<Message>,
    pub(super) max_steps: u32,
    pub(super) settings: ModelSettings,
    pub(super) abort: AbortSignal,
    pub(super) callbacks: Callbacks,
    pub(super) sink: S,
    pub(super) steps: Vec<StepResult>,
    pub(super) usage: Usage,
    /// Text of every step so far, including a step cut short by an abort.
    pub(super) text: String,
}

impl<S: ChunkSink> RunLoop<S> {
    /// Runs to the end. Returns the output, or `None` when the sink closed first.
    pub(crate) async fn run(mut self) -> Option<Result<AgentOutput, AgentError>> {
        self.drive().await.ok()
    }

    async fn drive(&mut self) -> Result<Result<AgentOutput, AgentError>, SinkClosed> {
        let start = StartPayload {
            id: self.agent.id.clone(),
            message_id: new_id(),
        };
        self.emit(ChunkKind::Start(start)).await?;
        loop {
            if self.abort.is_aborted() {
                return self.finish_aborted().await;
            }
            let step = match self.model_step().await? {
                StepOutcome::Done(step) => step,
                StepOutcome::Aborted => return self.finish_aborted().await,
                StepOutcome::Failed(error) => return self.fail(error.into()).await,
            };
            let Some(results) = self.execute_tools(&step.tool_calls).await? else {
                return self.finish_aborted().await;
            };
            let step = step.into_result(results);
            let more = step.finish_reason == FinishReason::ToolCalls
                && !step.tool_calls.is_empty()
                && (self.steps.len() as u32 + 1) < self.max_steps;
            self.record_step(step.clone(), more).await?;
            if !more {
                return self.finish(step.finish_reason).await;
            }
        }
    }

    /// Sends one chunk to the callbacks and the sink.
    pub(super) async fn emit(&mut self, kind: ChunkKind) -> Result<(), SinkClosed> {
        let chunk = Chunk::agent(self.run_id.clone(), kind);
        if let Some(on_chunk) = &self.callbacks.on_chunk {
            on_chunk(&chunk);
        }
        self.sink.emit(chunk).await
    }

    async fn record_step(
        &mut self,
        step: StepResult,
        is_continued: bool,
    ) -> Result<(), SinkClosed> {
        let finish = StepFinishPayload {
            step_result: StepResultInfo {
                reason: step.finish_reason,
                warnings: Vec::new(),
                is_continued,
                total_usage: None,
                message_id: None,
            },
            output: StepOutput {
                text: Some(step.text.clone()),
                tool_calls: Some(step.tool_calls.clone()),
                usage: step.usage,
            },
            message_id: step.message_id.clone(),
        };
        self.emit(ChunkKind::StepFinish(finish)).await?;
        if let Some(on_step_finish) = &self.callbacks.on_step_finish {
            on_step_finish(&step);
        }
        self.append_step_messages(&step);
        self.usage += step.usage;
        self.steps.push(step);
        Ok(())
    }

    /// Adds the assistant's turn and the tool results to the conversation.
    fn append_step_messages(&mut self, step: &StepResult) {
        let mut content = Vec::new();
        if !step.reasoning.is_empty() {
            content.push(ContentPart::Reasoning {
                text: step.reasoning.clone(),
            });
        }
        if !step.text.is_empty() {
            content.push(ContentPart::Text {
                text: step.text.clone(),
            });
        }
        content.extend(step.tool_calls.iter().map(|call| ContentPart::ToolCall {
            tool_call_id: call.tool_call_id.clone(),
            tool_name: call.tool_name.clone(),
            args: call.args.clone(),
        }));
        if !content.is_empty() {
            self.messages.push(Message {
                role: Role::Assistant,
                content,
            });
        }
        if !step.tool_results.is_empty() {
            let content = step
                .tool_results
                .iter()
                .map(|r| ContentPart::ToolResult {
                    tool_call_id: r.tool_call_id.clone(),
                    tool_name: r.tool_name.clone(),
                    result: match &r.error {
                        Some(error) => serde_json::Value::String(error.message.clone()),
                        None => r.result.clone(),
                    },
                    is_error: r.is_error(),
                })
                .collect();
            self.messages.push(Message {
                role: Role::Tool,
                content,
            });
        }
    }

    fn output(&self, reason: FinishReason) -> AgentOutput {
        AgentOutput::from_steps(
            &self.run_id,
            self.text.clone(),
            self.steps.clone(),
            self.usage,
            reason,
        )
    }

    /// Emits the one `finish` chunk. The callback runs first, so that a caller who saw the
    /// terminal chunk can rely on its callback having run.
    async fn finish_with(
        &mut self,
        reason: FinishReason,
        callback: Option<&Callback<AgentOutput>>,
    ) -> Result<Result<AgentOutput, AgentError>, SinkClosed> {
        let output = self.output(reason);
        if let Some(callback) = callback {
            callback(&output);
        }
        let finish = FinishPayload {
            step_result: StepResultInfo {
                reason,
                warnings: Vec::new(),
                is_continued: false,
                total_usage: Some(self.usage),
                message_id: None,
            },
            output: FinishOutput {
                text: Some(output.text.clone()),
                usage: output.usage,
                steps: Some(output.steps.clone()),
            },
        };
        self.emit(ChunkKind::Finish(finish)).await?;
        Ok(Ok(output))
    }

    async fn finish(
        &mut self,
        reason: FinishReason,
    ) -> Result<Result<AgentOutput, AgentError>, SinkClosed> {
        let callback = self.callbacks.on_finish.clone();
        self.finish_with(reason, callback.as_ref()).await
    }

    async fn finish_aborted(&mut self) -> Result<Result<AgentOutput, AgentError>, SinkClosed> {
        let callback = self.callbacks.on_abort.clone();
        self.finish_with(FinishReason::Abort, callback.as_ref())
            .await
    }

    async fn fail(
        &mut self,
        error: AgentError,
    ) -> Result<Result<AgentOutput, AgentError>, SinkClosed> {
        tracing::warn!(run_id = %self.run_id, %error, "agent run failed");
        if let Some(on_error) = &self.callbacks.on_error {
            on_error(&error);
        }
        let payload = ErrorPayload {
            error: error.info(),
        };
        self.emit(ChunkKind::Error(payload)).await?;
        Ok(Err(error))
    }
}

/// A fresh random id for messages and runs.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
