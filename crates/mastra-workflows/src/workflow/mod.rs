//! Typed workflows: serde steps chained with `then`, repeated with `loop_while`, and mapped
//! over a list with `for_each` (with a concurrency limit). A [`WorkflowEngine`] runs them
//! as queued steps, storing the run after every step.
//!
//! ```
//! use std::sync::Arc;
//! use mastra_pubsub::{EventEmitterPubSub, PubSub};
//! use mastra_workflows::workflow::{step, workflow, WorkflowEngine};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mastra_workflows::WorkflowError> {
//! let double = workflow::<u32>("double-then-split")
//!     .then(step("double", |n: u32| async move { Ok::<_, String>(n * 2) }))
//!     .loop_while(step("grow", |n: u32| async move { Ok::<_, String>(n + 1) }), |n| *n < 10)
//!     .then(step("split", |n: u32| async move { Ok::<_, String>(vec![n, n + 1]) }))
//!     .for_each(step("square", |n: u32| async move { Ok::<_, String>(n * n) }), 2)
//!     .build();
//!
//! let pubsub: Arc<dyn PubSub> = Arc::new(EventEmitterPubSub::new());
//! let engine = WorkflowEngine::builder(pubsub).build();
//! engine.register(&double);
//! let workers = engine.start_workers(2).await?;
//! let run_id = engine.start(&double, 3).await?;
//! assert_eq!(engine.result(&double, &run_id).await?, vec![100, 121]);
//! workers.stop().await;
//! # Ok(())
//! # }
//! ```

mod engine;

pub use engine::{WorkflowEngine, WorkflowEngineBuilder, WORKFLOW_WORKER_GROUP};

use crate::WorkflowError;
use futures::future::BoxFuture;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

type Run<I, O> = Arc<dyn Fn(I) -> BoxFuture<'static, Result<O, String>> + Send + Sync>;

/// A typed step: an async function of a serde input to a serde output.
pub struct Step<I, O> {
    id: String,
    run: Run<I, O>,
}

impl<I, O> fmt::Debug for Step<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A step named `id` running `f`; an `Err` ends the run with that error.
pub fn step<I, O, E, F, Fut>(id: impl Into<String>, f: F) -> Step<I, O>
where
    I: Send + 'static,
    F: Fn(I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    E: fmt::Display,
{
    Step {
        id: id.into(),
        run: Arc::new(move |input| {
            let running = f(input);
            async move { running.await.map_err(|e| e.to_string()) }.boxed()
        }),
    }
}

/// A step over JSON values, as the engine runs it.
#[derive(Clone)]
pub(crate) struct ErasedStep {
    pub(crate) id: String,
    run: Run<Value, Value>,
}

impl ErasedStep {
    pub(crate) async fn run(&self, input: Value) -> Result<Value, WorkflowError> {
        (self.run)(input)
            .await
            .map_err(|message| WorkflowError::Step {
                step: self.id.clone(),
                message,
            })
    }
}

fn erase<I, O>(step: Step<I, O>) -> ErasedStep
where
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    let (id, run) = (step.id.clone(), step.run);
    ErasedStep {
        id: step.id,
        run: Arc::new(move |input| {
            let (run, id) = (run.clone(), id.clone());
            async move {
                let input: I = serde_json::from_value(input)
                    .map_err(|e| format!("input of `{id}` does not fit: {e}"))?;
                let output = run(input).await?;
                serde_json::to_value(output).map_err(|e| format!("output of `{id}`: {e}"))
            }
            .boxed()
        }),
    }
}

pub(crate) type Condition = Arc<dyn Fn(&Value) -> bool + Send + Sync>;

/// One node of a workflow: each execution of a node is one queued step.
#[derive(Clone)]
pub(crate) enum Node {
    Then(ErasedStep),
    LoopWhile(ErasedStep, Condition),
    ForEach(ErasedStep, usize),
}

/// A built workflow from `I` to `O`. Cheap to clone.
pub struct Workflow<I, O> {
    pub(crate) id: String,
    pub(crate) nodes: Arc<Vec<Node>>,
    types: PhantomData<fn(I) -> O>,
}

impl<I, O> Clone for Workflow<I, O> {
    fn clone(&self) -> Self {
        Self {
            id: self.id.clone(),
            nodes: self.nodes.clone(),
            types: PhantomData,
        }
    }
}

impl<I, O> fmt::Debug for Workflow<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workflow")
            .field("id", &self.id)
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

impl<I, O> Workflow<I, O> {
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Starts a workflow taking `I`.
pub fn workflow<I>(id: impl Into<String>) -> WorkflowBuilder<I, I> {
    WorkflowBuilder {
        id: id.into(),
        nodes: Vec::new(),
        types: PhantomData,
    }
}

/// Builds a [`Workflow`] whose steps so far turn an `I` into an `O`.
pub struct WorkflowBuilder<I, O> {
    id: String,
    nodes: Vec<Node>,
    types: PhantomData<fn(I) -> O>,
}

impl<I, O> fmt::Debug for WorkflowBuilder<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowBuilder")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<I, O: DeserializeOwned + Send + 'static> WorkflowBuilder<I, O> {
    fn push<N>(mut self, node: Node) -> WorkflowBuilder<I, N> {
        self.nodes.push(node);
        WorkflowBuilder {
            id: self.id,
            nodes: self.nodes,
            types: PhantomData,
        }
    }

    /// Runs `step` on the output so far.
    pub fn then<N: Serialize + Send + 'static>(self, step: Step<O, N>) -> WorkflowBuilder<I, N> {
        self.push(Node::Then(erase(step)))
    }

    /// Runs `step`, then runs it again on its own output while `condition` holds for it.
    pub fn loop_while(
        self,
        step: Step<O, O>,
        condition: impl Fn(&O) -> bool + Send + Sync + 'static,
    ) -> WorkflowBuilder<I, O>
    where
        O: Serialize,
    {
        let condition: Condition = Arc::new(move |value| {
            serde_json::from_value::<O>(value.clone()).is_ok_and(|v| condition(&v))
        });
        self.push(Node::LoopWhile(erase(step), condition))
    }

    /// The workflow.
    pub fn build(self) -> Workflow<I, O> {
        Workflow {
            id: self.id,
            nodes: Arc::new(self.nodes),
            types: PhantomData,
        }
    }
}

impl<I, T: DeserializeOwned + Send + 'static> WorkflowBuilder<I, Vec<T>> {
    /// Runs `step` on every item, at most `concurrency` at once, keeping their order.
    pub fn for_each<U: Serialize + Send + 'static>(
        self,
        step: Step<T, U>,
        concurrency: usize,
    ) -> WorkflowBuilder<I, Vec<U>> {
        self.push(Node::ForEach(erase(step), concurrency.max(1)))
    }
}
