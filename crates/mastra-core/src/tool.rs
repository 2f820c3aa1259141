//! The `Tool` contract, and typed tools built from an async function.
//!
//! ```
//! use mastra_core::tool::{tool, Tool, ToolContext};
//! use mastra_core::ToolError;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Add { a: f64, b: f64 }
//!
//! let add = tool("add", "Adds two numbers", |input: Add, _ctx: ToolContext| async move {
//!     Ok::<_, ToolError>(input.a + input.b)
//! });
//! assert_eq!(add.input_schema()["required"], serde_json::json!(["a", "b"]));
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let sum = add.execute(serde_json::json!({"a": 1, "b": 2}), ToolContext::detached("c1")).await.unwrap();
//! assert_eq!(sum, serde_json::json!(3.0));
//! let bad = add.execute(serde_json::json!({"a": "one"}), ToolContext::detached("c2")).await;
//! assert!(matches!(bad, Err(ToolError::InvalidArgs { .. })));
//! # });
//! ```

use crate::chunk::DataPayload;
use crate::{AbortSignal, ToolDefinition, ToolError};
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What a tool knows about the call it is serving.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ToolContext {
    pub run_id: String,
    pub tool_call_id: String,
    /// `<runId>:<toolCallId>`: the same every time this call is attempted (after a crash, a
    /// call may run again), so tools with side effects can deduplicate on it.
    pub idempotency_key: String,
    /// Aborted when the run is aborted; long-running tools should stop early.
    pub abort: AbortSignal,
    /// The data this call was resumed with, after it returned [`ToolError::Suspend`].
    pub resume_data: Option<Value>,
    writer: DataWriter,
}

impl ToolContext {
    /// The context of one call of a run.
    pub fn new(
        run_id: impl Into<String>,
        tool_call_id: impl Into<String>,
        abort: AbortSignal,
    ) -> Self {
        let (run_id, tool_call_id) = (run_id.into(), tool_call_id.into());
        Self {
            idempotency_key: format!("{run_id}:{tool_call_id}"),
            run_id,
            tool_call_id,
            abort,
            resume_data: None,
            writer: DataWriter(None),
        }
    }

    /// A context outside any run, for calling a tool directly (tests, scripts).
    pub fn detached(tool_call_id: impl Into<String>) -> Self {
        Self::new("", tool_call_id, AbortSignal::new())
    }

    pub(crate) fn with_writer(mut self, writer: mpsc::UnboundedSender<DataPayload>) -> Self {
        self.writer = DataWriter(Some(writer));
        self
    }

    /// Streams a custom `data-<name>` chunk to the run's readers, ahead of the tool's result.
    /// Outside a run it goes nowhere.
    pub fn write_data(&self, name: impl Into<String>, data: Value) {
        if let Some(tx) = &self.writer.0 {
            let payload = DataPayload {
                name: name.into(),
                data,
                id: None,
            };
            // The run may have ended meanwhile; then nobody reads it, which is fine.
            let _ = tx.send(payload);
        }
    }
}

/// Where a tool's custom data chunks go.
#[derive(Debug, Clone)]
struct DataWriter(Option<mpsc::UnboundedSender<DataPayload>>);

/// A tool an agent can call.
#[async_trait]
pub trait Tool: Send + Sync + 'static {
    /// The name the model calls it by.
    fn id(&self) -> &str;

    fn description(&self) -> &str;

    /// JSON Schema of the input object.
    fn input_schema(&self) -> Value;

    /// Whether a person must approve each call before it runs.
    fn require_approval(&self) -> bool {
        false
    }

    /// Runs the tool. Arguments that do not fit the schema are [`ToolError::InvalidArgs`].
    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<Value, ToolError>;

    /// The tool as the model sees it.
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: self.id().to_owned(),
            description: self.description().to_owned(),
            input_schema: self.input_schema(),
        }
    }
}

/// A shared, type-erased tool.
pub type SharedTool = Arc<dyn Tool>;

/// A typed tool: input deserialized into `I`, whose JSON Schema is derived with `schemars`.
pub struct FnTool<I, F> {
    id: String,
    description: String,
    schema: Value,
    require_approval: bool,
    run: F,
    input: PhantomData<fn(I)>,
}

/// Builds a typed tool from an async function of its input and context.
pub fn tool<I, O, F, Fut>(
    id: impl Into<String>,
    description: impl Into<String>,
    run: F,
) -> FnTool<I, F>
where
    I: DeserializeOwned + JsonSchema + Send + 'static,
    O: Serialize,
    F: Fn(I, ToolContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, ToolError>> + Send,
{
    let schema = serde_json::to_value(schemars::schema_for!(I)).unwrap_or(Value::Null);
    FnTool {
        id: id.into(),
        description: description.into(),
        schema,
        require_approval: false,
        run,
        input: PhantomData,
    }
}

impl<I, F> FnTool<I, F> {
    /// Requires a person's approval before each call (see durable agents).
    pub fn with_approval(mut self, required: bool) -> Self {
        self.require_approval = required;
        self
    }
}

impl<I, F> fmt::Debug for FnTool<I, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnTool")
            .field("id", &self.id)
            .field("require_approval", &self.require_approval)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<I, O, F, Fut> Tool for FnTool<I, F>
where
    I: DeserializeOwned + JsonSchema + Send + 'static,
    O: Serialize,
    F: Fn(I, ToolContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, ToolError>> + Send,
{
    fn id(&self) -> &str {
        &self.id
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn input_schema(&self) -> Value {
        self.schema.clone()
    }

    fn require_approval(&self) -> bool {
        self.require_approval
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<Value, ToolError> {
        let input: I = serde_json::from_value(args).map_err(|e| ToolError::InvalidArgs {
            tool: self.id.clone(),
            message: e.to_string(),
        })?;
        let output = (self.run)(input, ctx).await?;
        serde_json::to_value(output)
            .map_err(|e| ToolError::execution(format!("tool output is not JSON: {e}")))
    }
}
