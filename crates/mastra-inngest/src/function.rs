//! A durable function: an id, a trigger event, cancellation rules and an async handler that
//! takes its steps through [`StepTools`].

use crate::{Event, StepError, StepTools};
use futures::future::BoxFuture;
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// What the handler gets besides its step tools.
#[derive(Debug, Clone)]
pub struct FunctionInput {
    /// The triggering event.
    pub event: Event,
    /// The batch (`[event]` without batching).
    pub events: Vec<Event>,
    pub run_id: String,
    /// 0-based attempt of the current step (or of the function after its last step).
    pub attempt: u32,
}

/// A `cancelOn` rule: a later event named `event` (optionally matching the CEL expression
/// `if`, which sees the trigger as `event` and the cancel event as `async`) ends the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelOn {
    pub event: String,
    pub condition: Option<String>,
    pub timeout: Option<String>,
}

type Handler = Arc<
    dyn Fn(FunctionInput, StepTools) -> BoxFuture<'static, Result<Value, StepError>> + Send + Sync,
>;

/// One Inngest function.
///
/// The handler is re-run from the top on every Call Request: everything it does outside
/// `step.run` happens again each time, so it should only compute from its input and its
/// steps' results (which are memoized), and await nothing but step tools.
#[derive(Clone)]
pub struct InngestFunction {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) trigger: String,
    pub(crate) cancel_on: Vec<CancelOn>,
    pub(crate) retries: Option<u32>,
    pub(crate) handler: Handler,
}

impl fmt::Debug for InngestFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InngestFunction")
            .field("id", &self.id)
            .field("trigger", &self.trigger)
            .field("cancel_on", &self.cancel_on)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl InngestFunction {
    /// Function `id` (within its app), triggered by events named `trigger_event`.
    pub fn new<F, Fut>(id: impl Into<String>, trigger_event: impl Into<String>, handler: F) -> Self
    where
        F: Fn(FunctionInput, StepTools) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, StepError>> + Send + 'static,
    {
        let id = id.into();
        Self {
            name: id.clone(),
            id,
            trigger: trigger_event.into(),
            cancel_on: Vec::new(),
            retries: None,
            handler: Arc::new(move |input, step| Box::pin(handler(input, step))),
        }
    }

    /// The display name (defaults to the id).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How many times a failing step is *retried* (Inngest's default is 4).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    /// Cancels the run when `event` arrives and, if given, `condition` holds
    /// (e.g. `"event.data.runId == async.data.runId"`).
    pub fn cancel_on(mut self, event: impl Into<String>, condition: Option<&str>) -> Self {
        self.cancel_on.push(CancelOn {
            event: event.into(),
            condition: condition.map(str::to_owned),
            timeout: None,
        });
        self
    }

    /// The id within the app.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The trigger event name.
    pub fn trigger(&self) -> &str {
        &self.trigger
    }

    pub(crate) fn call(
        &self,
        input: FunctionInput,
        step: StepTools,
    ) -> BoxFuture<'static, Result<Value, StepError>> {
        (self.handler)(input, step)
    }
}
