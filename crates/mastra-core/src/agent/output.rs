//! The full output of a run, as `generate()` returns it and `on_finish` receives it.

use crate::chunk::{ChunkKind, FinishPayload};
use crate::{AgentError, Chunk, FinishReason, StepResult, ToolCallInfo, ToolResultInfo, Usage};
use serde::{Deserialize, Serialize};

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentOutput {
    pub run_id: String,
    /// The text of every step, concatenated.
    pub text: String,
    pub steps: Vec<StepResult>,
    pub tool_calls: Vec<ToolCallInfo>,
    pub tool_results: Vec<ToolResultInfo>,
    /// Usage summed over steps.
    pub usage: Usage,
    pub finish_reason: FinishReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

impl AgentOutput {
    /// Builds the output from a run's steps.
    pub fn from_steps(
        run_id: &str,
        text: String,
        steps: Vec<StepResult>,
        usage: Usage,
        finish_reason: FinishReason,
    ) -> Self {
        let tool_calls = steps
            .iter()
            .flat_map(|s| s.tool_calls.iter().cloned())
            .collect();
        let tool_results = steps
            .iter()
            .flat_map(|s| s.tool_results.iter().cloned())
            .collect();
        Self {
            run_id: run_id.to_owned(),
            text,
            steps,
            tool_calls,
            tool_results,
            usage,
            finish_reason,
            thread_id: None,
            resource_id: None,
        }
    }

    /// Builds the output from a `finish` chunk.
    pub fn from_finish(run_id: &str, finish: &FinishPayload) -> Self {
        Self::from_steps(
            run_id,
            finish.output.text.clone().unwrap_or_default(),
            finish.output.steps.clone().unwrap_or_default(),
            finish.output.usage,
            finish.step_result.reason,
        )
    }
}

/// Folds a chunk stream into an [`AgentOutput`]: the same result whether the chunks came
/// from a plain agent, a durable run being observed, or an HTTP stream.
#[derive(Debug, Default)]
pub struct OutputCollector {
    run_id: String,
    text: String,
    outcome: Option<Result<AgentOutput, AgentError>>,
}

impl OutputCollector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one chunk; returns `true` once the run's terminal chunk was seen.
    pub fn push(&mut self, chunk: &Chunk) -> bool {
        if self.run_id.is_empty() {
            self.run_id.clone_from(&chunk.run_id);
        }
        match &chunk.kind {
            ChunkKind::TextDelta(delta) => self.text.push_str(&delta.text),
            ChunkKind::Finish(finish) => {
                let mut output = AgentOutput::from_finish(&self.run_id, finish);
                if finish.output.text.is_none() {
                    output.text = std::mem::take(&mut self.text);
                }
                self.outcome = Some(Ok(output));
            }
            ChunkKind::Error(error) => {
                self.outcome = Some(Err(AgentError::Remote(error.error.clone())));
            }
            _ => {}
        }
        self.outcome.is_some()
    }

    /// The outcome; [`AgentError::Incomplete`] if no terminal chunk arrived.
    pub fn finish(self) -> Result<AgentOutput, AgentError> {
        self.outcome.unwrap_or(Err(AgentError::Incomplete))
    }
}
