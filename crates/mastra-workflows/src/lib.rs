//! Evented execution: every step is a message on a work queue, and the run's state is
//! stored after every step, so any worker continues a run and a run whose worker died is
//! continued from its last completed step.
//!
//! Two engines share the machinery (the `workflows` topic, consumed by a competing group
//! of workers; a [`WorkflowStore`] with fenced writes; run-ownership leases whose
//! generation rises with every claim):
//!
//! - [`workflow`]: typed workflows of serde steps: `then`, `loop_while` and `for_each`
//!   with a concurrency limit, run by a [`workflow::WorkflowEngine`];
//! - [`EventedEngine`]: an `ExecutionEngine` for durable agents. [`create_evented_agent`]
//!   gives the usual `DurableAgent` (stream, observe, generate, approvals, resume, abort),
//!   whose `stream()` returns once the run is queued; each model step and each tool step is
//!   one queue message. Crash recovery and fencing are described in `docs/crash-recovery.md`.
//!
//! ```
//! use std::sync::Arc;
//! use mastra_core::{demo, Agent, StreamOptions};
//! use mastra_pubsub::{EventEmitterPubSub, PubSub};
//! use mastra_workflows::{create_evented_agent, EventedEngine};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pubsub: Arc<dyn PubSub> = Arc::new(EventEmitterPubSub::new());
//! let engine = EventedEngine::builder(pubsub).build();
//! let agent = Agent::builder("counter", demo::DemoModel::new()).build();
//! let durable = create_evented_agent(agent, &engine).build();
//!
//! // Workers take the queued steps; an instance without workers only queues runs.
//! let workers = engine.start_workers(2).await?;
//! let output = durable.generate("count to 3", StreamOptions::new()).await?;
//! assert_eq!(output.text, "1 2 3");
//! workers.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! Instances form one deployment when they share the transport, the run-log cache, the
//! durable agent's run store and the workflow store; a worker-only instance
//! [`register`](EventedEngine::register)s the agents it serves. This crate has no feature
//! flags and names no Redis type: the Redis transport, leases and cache plug in through
//! their traits.

mod agent;
mod claim;
mod error;
pub mod store;
pub mod task;
mod worker;
pub mod workflow;

pub use agent::{
    create_evented_agent, EventedEngine, EventedEngineBuilder, AGENT_WORKER_GROUP,
    DEFAULT_CONTINUATION, DEFAULT_LEASE_TTL,
};
pub use error::WorkflowError;
pub use store::{Enqueue, InMemoryWorkflowStore, RunLease, RunPhase, StoredRun, WorkflowStore};
pub use task::Task;
pub use worker::{StopSignal, TaskHandler, WorkerHandle};
