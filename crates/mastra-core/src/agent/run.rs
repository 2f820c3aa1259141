//! The multi-step loop: model step, tool calls, next step, until the model stops, `max_steps`
//! is reached, the run is aborted or something fails. Exactly one terminal chunk per run.

use super::model_step::StepOutcome;
use super::options::Callback;
use super::sink::{ChunkSink, SinkClosed};
use super::state::PendingCall;
use super::state::{RunState, StepProgress};
use super::tool_step::ToolsOutcome;
use super::trace;
use super::{AgentInner, Callbacks};
use crate::chunk::{
    ChunkKind, ErrorPayload, FinishOutput, FinishPayload, StartPayload, StepFinishPayload,
    StepOutput, StepResultInfo,
};
use crate::{
    AbortSignal, AgentError, AgentOutput, Chunk, ContentPart, FinishReason, Message, Role,
    StepResult,
};
use std::fmt;
use std::sync::Arc;
use tracing::{Instrument, Span};

/// One run being executed: its serializable [`RunState`] plus the live parts (agent, abort
/// signal, callbacks, sink). Engines call [`step`](Self::step) and may persist the state
/// between two steps; [`run_to_end`](Self::run_to_end) takes every step in this task.
pub struct RunExecutor<S> {
    pub(super) agent: Arc<AgentInner>,
    pub(super) state: RunState,
    pub(super) abort: AbortSignal,
    pub(super) callbacks: Callbacks,
    pub(super) sink: S,
}

impl<S> fmt::Debug for RunExecutor<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunExecutor")
            .field("run_id", &self.state.run_id)
            .field("steps", &self.state.steps.len())
            .finish_non_exhaustive()
    }
}

impl<S: ChunkSink> RunExecutor<S> {
    /// The state as of the last completed step.
    pub fn state(&self) -> &RunState {
        &self.state
    }

    /// Emits the run's `start` chunk, unless it went out already. Durable agents call this
    /// before handing the run to an engine, so that the run's log exists once its id is known.
    /// Returns once the sink has the chunk (flushed).
    pub async fn begin(&mut self) -> Result<(), SinkClosed> {
        if !self.state.started {
            let start = StartPayload {
                id: self.agent.id.clone(),
                message_id: new_id(),
            };
            self.emit(ChunkKind::Start(start)).await?;
            self.sink.flush().await?;
            self.state.started = true;
        }
        Ok(())
    }

    /// The state, giving the executor up.
    pub fn into_state(self) -> RunState {
        self.state
    }

    /// The sink the chunks go to.
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Takes every remaining step. A run that suspends (tool approval, a suspended tool)
    /// cannot wait here: it finishes with reason `suspended`. Durable agents drive
    /// [`step`](Self::step) themselves and keep the state instead. Returns the outcome, or
    /// `None` when the sink closed first.
    pub async fn run_to_end(self) -> Option<Result<AgentOutput, AgentError>> {
        let span = self.run_span();
        async move { self.run_steps().await }.instrument(span).await
    }

    async fn run_steps(mut self) -> Option<Result<AgentOutput, AgentError>> {
        loop {
            match self.step().await {
                Ok(StepProgress::Continue) => continue,
                Ok(StepProgress::Done(outcome)) => return Some(outcome),
                Ok(StepProgress::Suspended(_)) => {
                    return match self.finish(FinishReason::Suspended).await {
                        Ok(StepProgress::Done(outcome)) => Some(outcome),
                        _ => None,
                    };
                }
                Err(SinkClosed) => return None,
            }
        }
    }

    /// Takes one step: a model call, or the tool calls of the pending model step (then the
    /// run either goes on or finishes). Returns once the sink has flushed the step's chunks,
    /// so an engine may checkpoint the state the step leaves.
    pub async fn step(&mut self) -> Result<StepProgress, SinkClosed> {
        let progress = self.take_step().await?;
        self.sink.flush().await?;
        Ok(progress)
    }

    async fn take_step(&mut self) -> Result<StepProgress, SinkClosed> {
        self.begin().await?;
        if self.abort.is_aborted() {
            return self.finish_aborted().await;
        }
        let Some(pending) = self.state.pending.take() else {
            let span = self.model_step_span();
            return match self.model_step().instrument(span).await? {
                StepOutcome::Done(pending) => {
                    self.state.pending = Some(pending);
                    Ok(StepProgress::Continue)
                }
                StepOutcome::Aborted => self.finish_aborted().await,
                StepOutcome::Failed(error) => self.fail(error.into()).await,
            };
        };
        let mut pending = pending;
        match self.execute_tools(&mut pending).await? {
            ToolsOutcome::Complete => {}
            ToolsOutcome::Aborted => {
                self.state.pending = Some(pending);
                return self.finish_aborted().await;
            }
            ToolsOutcome::Suspended(suspensions) => {
                self.state.pending = Some(pending);
                if let Some(on_suspended) = &self.callbacks.on_suspended {
                    for suspension in &suspensions {
                        on_suspended(suspension);
                    }
                }
                return Ok(StepProgress::Suspended(suspensions));
            }
        }
        let step = pending.into_result();
        let more = step.finish_reason == FinishReason::ToolCalls
            && !step.tool_calls.is_empty()
            && (self.state.steps.len() as u32 + 1) < self.state.max_steps;
        let reason = step.finish_reason;
        self.record_step(step, more).await?;
        if more {
            Ok(StepProgress::Continue)
        } else {
            self.finish(reason).await
        }
    }

    /// The span of a stretch of this run executed in one place (`agent.run`), in the run's
    /// trace. Engines that take steps themselves instrument them with it.
    pub fn run_span(&self) -> Span {
        let state = &self.state;
        let traceparent = state.traceparent.as_deref();
        let span = tracing::info_span!(
            "agent.run",
            run_id = %state.run_id,
            agent_id = %self.agent.id,
            step = state.steps.len(),
            generation = tracing::field::Empty,
            traceparent = traceparent.unwrap_or_default(),
        );
        self.in_run_trace(span)
    }

    fn model_step_span(&self) -> Span {
        let state = &self.state;
        let span = tracing::info_span!(
            "agent.model_step",
            run_id = %state.run_id,
            step = state.steps.len(),
            model = %self.agent.model.model_id(),
            generation = tracing::field::Empty,
            traceparent = state.traceparent.as_deref().unwrap_or_default(),
        );
        self.in_run_trace(span)
    }

    pub(super) fn tool_call_span(&self, call: &PendingCall) -> Span {
        let state = &self.state;
        let span = tracing::info_span!(
            "agent.tool_call",
            run_id = %state.run_id,
            step = state.steps.len(),
            tool = %call.info.tool_name,
            tool_call_id = %call.info.tool_call_id,
            generation = tracing::field::Empty,
            traceparent = state.traceparent.as_deref().unwrap_or_default(),
        );
        self.in_run_trace(span)
    }

    fn in_run_trace(&self, span: Span) -> Span {
        if let Some(generation) = self.sink.generation() {
            span.record("generation", generation);
        }
        trace::follow(&span, self.state.traceparent.as_deref());
        span
    }

    /// Sends one chunk to the callbacks and the sink.
    pub(super) async fn emit(&mut self, kind: ChunkKind) -> Result<(), SinkClosed> {
        let chunk = Chunk::agent(self.state.run_id.clone(), kind);
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
        self.state.usage += step.usage;
        self.state.steps.push(step);
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
            self.state.messages.push(Message {
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
            self.state.messages.push(Message {
                role: Role::Tool,
                content,
            });
        }
    }

    fn output(&self, reason: FinishReason) -> AgentOutput {
        let state = &self.state;
        let mut output = AgentOutput::from_steps(
            &state.run_id,
            state.text.clone(),
            state.steps.clone(),
            state.usage,
            reason,
        );
        output.thread_id.clone_from(&state.thread_id);
        output.resource_id.clone_from(&state.resource_id);
        output
    }

    /// Emits the one `finish` chunk. The callback runs first, so that a caller who saw the
    /// terminal chunk can rely on its callback having run.
    async fn finish_with(
        &mut self,
        reason: FinishReason,
        callback: Option<&Callback<AgentOutput>>,
    ) -> Result<StepProgress, SinkClosed> {
        let output = self.output(reason);
        if let Some(callback) = callback {
            callback(&output);
        }
        let finish = FinishPayload {
            step_result: StepResultInfo {
                reason,
                warnings: Vec::new(),
                is_continued: false,
                total_usage: Some(self.state.usage),
                message_id: None,
            },
            output: FinishOutput {
                text: Some(output.text.clone()),
                usage: output.usage,
                steps: Some(output.steps.clone()),
            },
        };
        self.emit(ChunkKind::Finish(finish)).await?;
        Ok(StepProgress::Done(Ok(output)))
    }

    /// Emits `finish` with `reason` after the `on_finish` callback.
    pub async fn finish(&mut self, reason: FinishReason) -> Result<StepProgress, SinkClosed> {
        let callback = self.callbacks.on_finish.clone();
        self.finish_with(reason, callback.as_ref()).await
    }

    /// Emits `finish` with reason `abort` after the `on_abort` callback.
    pub async fn finish_aborted(&mut self) -> Result<StepProgress, SinkClosed> {
        let callback = self.callbacks.on_abort.clone();
        self.finish_with(FinishReason::Abort, callback.as_ref())
            .await
    }

    /// Emits the `error` chunk after the `on_error` callback.
    pub async fn fail(&mut self, error: AgentError) -> Result<StepProgress, SinkClosed> {
        tracing::warn!(run_id = %self.state.run_id, %error, "agent run failed");
        if let Some(on_error) = &self.callbacks.on_error {
            on_error(&error);
        }
        let payload = ErrorPayload {
            error: error.info(),
        };
        self.emit(ChunkKind::Error(payload)).await?;
        Ok(StepProgress::Done(Err(error)))
    }
}

/// A fresh random id for messages and runs.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
