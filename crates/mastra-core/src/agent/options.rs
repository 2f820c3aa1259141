//! Per-run options and callbacks.

use super::state::Suspension;
use crate::{AbortSignal, AgentError, AgentOutput, Chunk, ModelSettings, StepResult};
use std::fmt;
use std::sync::Arc;

/// A callback: shared, callable from the task running the run.
pub type Callback<T> = Arc<dyn Fn(&T) + Send + Sync>;

/// Functions called as the run goes, from the task that executes it.
#[derive(Clone, Default)]
pub struct Callbacks {
    pub on_chunk: Option<Callback<Chunk>>,
    pub on_step_finish: Option<Callback<StepResult>>,
    pub on_finish: Option<Callback<AgentOutput>>,
    pub on_error: Option<Callback<AgentError>>,
    /// Called with the output gathered until the abort (partial text, finished steps).
    pub on_abort: Option<Callback<AgentOutput>>,
    /// Called for each tool call the run waits on (approval or resume data).
    pub on_suspended: Option<Callback<Suspension>>,
}

impl fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callbacks")
            .field("on_chunk", &self.on_chunk.is_some())
            .field("on_step_finish", &self.on_step_finish.is_some())
            .field("on_finish", &self.on_finish.is_some())
            .field("on_error", &self.on_error.is_some())
            .field("on_abort", &self.on_abort.is_some())
            .field("on_suspended", &self.on_suspended.is_some())
            .finish()
    }
}

/// Options of one `stream` or `generate` call; unset fields take the agent's defaults.
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    /// Run id to use; a random UUID when unset.
    pub run_id: Option<String>,
    pub max_steps: Option<u32>,
    pub settings: Option<ModelSettings>,
    /// Replaces the agent's instructions for this run.
    pub instructions: Option<String>,
    pub thread_id: Option<String>,
    pub resource_id: Option<String>,
    /// Every tool call of the run needs a person's approval.
    pub require_tool_approval: bool,
    /// Aborting this signal aborts the run (the stream's handle does the same).
    pub abort: Option<AbortSignal>,
    pub callbacks: Callbacks,
    /// The trace the run joins, as a W3C `traceparent` (the caller's, as a tracing backend
    /// reports it, or a new one when unset or malformed).
    pub traceparent: Option<String>,
}

impl StreamOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// The trace the run joins (a W3C `traceparent`, e.g. from an incoming request).
    pub fn traceparent(mut self, traceparent: impl Into<String>) -> Self {
        self.traceparent = Some(traceparent.into());
        self
    }

    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    pub fn max_steps(mut self, max_steps: u32) -> Self {
        self.max_steps = Some(max_steps);
        self
    }

    pub fn settings(mut self, settings: ModelSettings) -> Self {
        self.settings = Some(settings);
        self
    }

    pub fn abort_signal(mut self, signal: AbortSignal) -> Self {
        self.abort = Some(signal);
        self
    }

    pub fn on_chunk(mut self, f: impl Fn(&Chunk) + Send + Sync + 'static) -> Self {
        self.callbacks.on_chunk = Some(Arc::new(f));
        self
    }

    pub fn on_step_finish(mut self, f: impl Fn(&StepResult) + Send + Sync + 'static) -> Self {
        self.callbacks.on_step_finish = Some(Arc::new(f));
        self
    }

    pub fn on_finish(mut self, f: impl Fn(&AgentOutput) + Send + Sync + 'static) -> Self {
        self.callbacks.on_finish = Some(Arc::new(f));
        self
    }

    pub fn on_error(mut self, f: impl Fn(&AgentError) + Send + Sync + 'static) -> Self {
        self.callbacks.on_error = Some(Arc::new(f));
        self
    }

    pub fn on_suspended(mut self, f: impl Fn(&Suspension) + Send + Sync + 'static) -> Self {
        self.callbacks.on_suspended = Some(Arc::new(f));
        self
    }

    pub fn on_abort(mut self, f: impl Fn(&AgentOutput) + Send + Sync + 'static) -> Self {
        self.callbacks.on_abort = Some(Arc::new(f));
        self
    }
}
