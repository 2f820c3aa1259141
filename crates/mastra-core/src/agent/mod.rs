//! The `Agent`: a model, instructions and tools, run as a multi-step loop.
//!
//! ```
//! use futures::StreamExt;
//! use mastra_core::{demo, Agent, StreamOptions};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let agent = Agent::builder("weather-agent", demo::DemoModel::new())
//!     .instructions("Answer questions about the weather")
//!     .tools(demo::demo_tools())
//!     .build();
//! let mut stream = agent.stream("weather in Paris", StreamOptions::new());
//! let mut types = Vec::new();
//! while let Some(chunk) = stream.next().await {
//!     types.push(chunk.type_name().into_owned());
//! }
//! assert_eq!(types.first().map(String::as_str), Some("start"));
//! assert!(types.contains(&"tool-result".to_owned()));
//! assert_eq!(types.last().map(String::as_str), Some("finish"));
//! # }
//! ```

mod model_step;
mod options;
mod output;
mod run;
mod sink;
mod state;
mod stream;
mod tool_step;
pub mod trace;

pub use options::{Callback, Callbacks, StreamOptions};
pub use output::{AgentOutput, OutputCollector};
pub use run::RunExecutor;
pub use sink::{ChunkSink, SinkClosed};
pub use state::{
    Approval, PendingCall, PendingStep, RunState, StepProgress, Suspension, SuspensionKind,
};
pub use stream::AgentStream;
pub use tool_step::MAX_CONCURRENT_TOOLS;

use crate::tool::{SharedTool, Tool};
use crate::{
    AbortSignal, AgentError, LanguageModel, Message, MessageInput, ModelSettings, ToolDefinition,
};
use run::new_id;
use std::fmt;
use std::sync::Arc;
use tokio::sync::mpsc;

/// How many chunks may wait between the loop and a slow reader before the loop waits.
const STREAM_BUFFER: usize = 1024;

/// The default number of model steps per run.
pub const DEFAULT_MAX_STEPS: u32 = 5;

/// An agent. Cheap to clone: clones share the model and tools.
#[derive(Clone)]
pub struct Agent {
    inner: Arc<AgentInner>,
}

pub(crate) struct AgentInner {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) instructions: String,
    pub(crate) model: Arc<dyn LanguageModel>,
    pub(crate) tools: Vec<SharedTool>,
    pub(crate) max_steps: u32,
    pub(crate) settings: ModelSettings,
}

impl AgentInner {
    pub(crate) fn tool(&self, id: &str) -> Option<&SharedTool> {
        self.tools.iter().find(|t| t.id() == id)
    }
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.inner.id)
            .field("model", &self.inner.model.model_id())
            .field("tools", &self.tool_ids())
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Starts building an agent with an id and a model.
    pub fn builder(id: impl Into<String>, model: impl LanguageModel) -> AgentBuilder {
        AgentBuilder::new(id, Arc::new(model))
    }

    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The same agent (model, tools, instructions) under another id and name.
    pub fn with_identity(&self, id: impl Into<String>, name: impl Into<String>) -> Agent {
        let inner = &self.inner;
        Agent {
            inner: Arc::new(AgentInner {
                id: id.into(),
                name: name.into(),
                instructions: inner.instructions.clone(),
                model: inner.model.clone(),
                tools: inner.tools.clone(),
                max_steps: inner.max_steps,
                settings: inner.settings.clone(),
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn instructions(&self) -> &str {
        &self.inner.instructions
    }

    pub fn model(&self) -> &Arc<dyn LanguageModel> {
        &self.inner.model
    }

    pub fn max_steps(&self) -> u32 {
        self.inner.max_steps
    }

    pub fn tool_ids(&self) -> Vec<&str> {
        self.inner.tools.iter().map(|t| t.id()).collect()
    }

    /// A tool of this agent, by id.
    pub fn tool(&self, id: &str) -> Option<&SharedTool> {
        self.inner.tool(id)
    }

    /// The tools as the model sees them.
    pub fn tool_definitions(&self) -> Vec<ToolDefinition> {
        self.inner.tools.iter().map(|t| t.definition()).collect()
    }

    /// Starts a run in a new task and streams its chunks. Dropping the stream aborts the run.
    pub fn stream(&self, messages: impl Into<MessageInput>, options: StreamOptions) -> AgentStream {
        let run_id = options.run_id.clone().unwrap_or_else(new_id);
        let abort = options
            .abort
            .as_ref()
            .map(|s| s.child())
            .unwrap_or_default();
        let options = StreamOptions {
            run_id: Some(run_id.clone()),
            abort: Some(abort.clone()),
            ..options
        };
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let agent = self.clone();
        let messages = messages.into().into_messages();
        tokio::spawn(async move { agent.run_with_sink(messages, options, tx).await });
        AgentStream::new(run_id, rx, abort)
    }

    /// Runs to the end and returns the full output. An aborted run is `Ok` with finish reason
    /// `abort` and the partial text; a failed one is `Err`.
    pub async fn generate(
        &self,
        messages: impl Into<MessageInput>,
        options: StreamOptions,
    ) -> Result<AgentOutput, AgentError> {
        let thread_id = options.thread_id.clone();
        let resource_id = options.resource_id.clone();
        let mut output = self.stream(messages, options).output().await?;
        output.thread_id = thread_id;
        output.resource_id = resource_id;
        Ok(output)
    }

    /// Runs the loop in the current task, sending every chunk to `sink`. Returns `None` if the
    /// sink closed before the end.
    pub async fn run_with_sink<S: ChunkSink>(
        &self,
        messages: Vec<Message>,
        options: StreamOptions,
        sink: S,
    ) -> Option<Result<AgentOutput, AgentError>> {
        let state = self.new_run_state(messages, &options);
        let abort = options.abort.unwrap_or_default();
        self.executor(state, abort, options.callbacks, sink)
            .run_to_end()
            .await
    }

    /// The state of a new run: instructions, then `messages`; options resolved against the
    /// agent's defaults.
    pub fn new_run_state(&self, messages: Vec<Message>, options: &StreamOptions) -> RunState {
        let instructions = options
            .instructions
            .as_deref()
            .unwrap_or(&self.inner.instructions);
        let mut conversation = Vec::with_capacity(messages.len() + 1);
        if !instructions.is_empty() {
            conversation.push(Message::system(instructions));
        }
        conversation.extend(messages);
        RunState {
            run_id: options.run_id.clone().unwrap_or_else(new_id),
            agent_id: self.inner.id.clone(),
            messages: conversation,
            max_steps: options.max_steps.unwrap_or(self.inner.max_steps).max(1),
            settings: options
                .settings
                .clone()
                .unwrap_or_else(|| self.inner.settings.clone()),
            steps: Vec::new(),
            usage: Default::default(),
            text: String::new(),
            started: false,
            require_tool_approval: options.require_tool_approval,
            pending: None,
            thread_id: options.thread_id.clone(),
            resource_id: options.resource_id.clone(),
            traceparent: Some(
                options
                    .traceparent
                    .clone()
                    .filter(|t| trace::is_valid_traceparent(t))
                    .unwrap_or_else(trace::new_traceparent),
            ),
        }
    }

    /// An executor that continues `state` step by step, in this process, into `sink`.
    pub fn executor<S: ChunkSink>(
        &self,
        state: RunState,
        abort: AbortSignal,
        callbacks: Callbacks,
        sink: S,
    ) -> RunExecutor<S> {
        RunExecutor {
            agent: self.inner.clone(),
            state,
            abort,
            callbacks,
            sink,
        }
    }
}

/// Builds an [`Agent`].
pub struct AgentBuilder {
    inner: AgentInner,
}

impl fmt::Debug for AgentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentBuilder")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

impl AgentBuilder {
    /// A builder with a shared model.
    pub fn new(id: impl Into<String>, model: Arc<dyn LanguageModel>) -> Self {
        let id = id.into();
        Self {
            inner: AgentInner {
                name: id.clone(),
                id,
                instructions: String::new(),
                model,
                tools: Vec::new(),
                max_steps: DEFAULT_MAX_STEPS,
                settings: ModelSettings::default(),
            },
        }
    }

    /// A display name (the id when unset).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.inner.name = name.into();
        self
    }

    /// The system prompt.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.inner.instructions = instructions.into();
        self
    }

    pub fn tool(mut self, tool: impl Tool) -> Self {
        self.inner.tools.push(Arc::new(tool));
        self
    }

    pub fn shared_tool(mut self, tool: SharedTool) -> Self {
        self.inner.tools.push(tool);
        self
    }

    pub fn tools(mut self, tools: impl IntoIterator<Item = SharedTool>) -> Self {
        self.inner.tools.extend(tools);
        self
    }

    /// The most model steps per run (default 5, at least 1).
    pub fn max_steps(mut self, max_steps: u32) -> Self {
        self.inner.max_steps = max_steps.max(1);
        self
    }

    pub fn settings(mut self, settings: ModelSettings) -> Self {
        self.inner.settings = settings;
        self
    }

    pub fn build(self) -> Agent {
        Agent {
            inner: Arc::new(self.inner),
        }
    }
}
