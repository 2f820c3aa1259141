//! The evented engine for durable agents: every agent step (a model call, or the pending
//! tool calls) is one message on the `workflows` queue, and the run's state is stored after
//! every step, so any worker that has the agent registered continues the run, and a run
//! whose worker died is continued from its last completed step.

mod builder;
mod callbacks;
mod checkpoints;
mod control;
mod recovery;
mod step;

pub use builder::{
    create_evented_agent, EventedEngineBuilder, DEFAULT_CONTINUATION, DEFAULT_LEASE_TTL,
};

use crate::store::{Enqueue, RunPhase, StoredRun, WorkflowStore};
use crate::task::{Task, AGENT_WORKFLOW_PREFIX, WORKFLOWS_TOPIC};
use crate::worker::{self, WorkerHandle};
use crate::WorkflowError;
use async_trait::async_trait;
use mastra_core::{AbortSignal, Callbacks, RunState};
use mastra_durable::control::abort_request;
use mastra_durable::engine::{EngineRun, ExecutionEngine, RunContext};
use mastra_durable::{agent_control_topic, DurableAgent, DurableError, RunStatus};
use mastra_pubsub::{LeaseProvider, PubSub, PublishOptions};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The consumer group of agent workers on the `workflows` topic.
pub const AGENT_WORKER_GROUP: &str = "mastra-agent-workers";

/// What the store keeps of an agent run between steps (written from a borrowed state as
/// `Checkpoint<&RunState>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Checkpoint<S = RunState> {
    pub(crate) state: S,
    /// The run's log length when the step completed: a re-run voids what lies beyond.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) log_len: Option<u64>,
}

/// Runs durable agents as queued steps. Cheap to clone; clones share workers' registry.
#[derive(Clone)]
pub struct EventedEngine {
    inner: Arc<Inner>,
}

struct Inner {
    instance: String,
    pubsub: Arc<dyn PubSub>,
    store: Arc<dyn WorkflowStore>,
    leases: Arc<dyn LeaseProvider>,
    lease_ttl: Duration,
    /// How long a worker goes on with a run's steps before queueing the next one.
    continuation: Duration,
    /// The agents this instance's workers can execute, by agent id.
    agents: RwLock<HashMap<String, RunContext>>,
    /// Live parts of the runs started here (they stay in this process).
    local: Mutex<HashMap<String, (Callbacks, AbortSignal)>>,
    /// Runs with a step executing here right now.
    executing: Mutex<HashMap<String, AbortSignal>>,
    /// Control-topic listeners kept for the next step of their run.
    listeners: control::KeptListeners,
    /// Checkpoints saved here, kept decoded for the run's next step.
    checkpoints: checkpoints::Checkpoints,
}

impl fmt::Debug for EventedEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventedEngine")
            .field("instance", &self.inner.instance)
            .field("lease_ttl", &self.inner.lease_ttl)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl EventedEngine {
    /// An engine queueing steps on `pubsub` (its leases fence the runs, unless others are set).
    pub fn builder(pubsub: Arc<dyn PubSub>) -> EventedEngineBuilder {
        EventedEngineBuilder::new(pubsub)
    }

    /// This instance's id (worker owner ids are `<instance>/<n>`).
    pub fn instance_id(&self) -> &str {
        &self.inner.instance
    }

    /// The transport the steps are queued on.
    pub fn pubsub(&self) -> &Arc<dyn PubSub> {
        &self.inner.pubsub
    }

    /// Where runs are stored between steps.
    pub fn store(&self) -> &Arc<dyn WorkflowStore> {
        &self.inner.store
    }

    /// Lets this instance's workers execute `agent`'s runs (an agent that starts a run here
    /// is registered by that). Worker-only instances register every agent they serve.
    pub fn register(&self, agent: &DurableAgent) {
        self.register_context(agent.context());
    }

    fn register_context(&self, ctx: &RunContext) {
        let mut agents = self.inner.agents.write().unwrap_or_else(|e| e.into_inner());
        agents
            .entry(ctx.agent.id().to_owned())
            .or_insert_with(|| ctx.clone());
    }

    fn context(&self, agent_id: &str) -> Option<RunContext> {
        let agents = self.inner.agents.read().unwrap_or_else(|e| e.into_inner());
        agents.get(agent_id).cloned()
    }

    /// Starts `count` workers taking queued agent steps (subscribed when this returns).
    /// An instance without workers only queues runs; another instance executes them.
    pub async fn start_workers(&self, count: usize) -> Result<WorkerHandle, WorkflowError> {
        let handler = Arc::new(self.clone());
        worker::start(
            self.inner.pubsub.clone(),
            AGENT_WORKER_GROUP,
            &self.inner.instance,
            count,
            handler,
        )
        .await
    }

    /// `task` as a message for the queue, for a store that queues it with its save.
    fn next_step(&self, task: &Task) -> Result<Enqueue<'_>, WorkflowError> {
        Ok(Enqueue {
            pubsub: &*self.inner.pubsub,
            topic: WORKFLOWS_TOPIC,
            event: task.to_event()?,
        })
    }

    async fn enqueue(&self, task: &Task) -> Result<(), WorkflowError> {
        self.inner
            .pubsub
            .publish(WORKFLOWS_TOPIC, task.to_event()?, PublishOptions::default())
            .await?;
        Ok(())
    }

    /// Stores the run at its next step and queues that step.
    async fn queue_run(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError> {
        self.register_context(ctx);
        let run_id = run.state.run_id.clone();
        // Two independent reads: asked for at once.
        let (previous, log_len) = tokio::join!(self.inner.store.load(&run_id), async {
            match ctx.channel.is_resumable() {
                true => ctx.channel.log_len(&run_id).await.map(Some),
                false => Ok(None),
            }
        });
        let (step, generation) = previous?.map_or((0, 0), |r| (r.step, r.generation));
        let log_len = log_len?;
        let workflow_id = format!("{AGENT_WORKFLOW_PREFIX}{}", ctx.agent.id());
        let checkpoint = Checkpoint {
            state: run.state,
            log_len,
        };
        let record = StoredRun {
            run_id: run_id.clone(),
            workflow_id: workflow_id.clone(),
            step,
            generation,
            phase: RunPhase::Active,
            cancel_requested: false,
            held: false,
            data: serde_json::to_string(&checkpoint).map_err(DurableError::Encoding)?,
        };
        let callbacks = callbacks::relay_terminal(ctx, &run_id, run.callbacks).await?;
        self.inner.store.put(&record).await?;
        lock(&self.inner.local).insert(run_id.clone(), (callbacks, run.abort));
        self.enqueue(&Task::new(workflow_id, run_id, step)).await?;
        Ok(())
    }

    async fn request_abort(&self, run_id: &str) -> Result<bool, WorkflowError> {
        let store = &self.inner.store;
        match store.load(run_id).await? {
            Some(record) if record.phase == RunPhase::Active => {
                store.request_cancel(run_id).await?;
                let topic = agent_control_topic(run_id);
                let request = abort_request(run_id);
                let options = PublishOptions::default();
                self.inner.pubsub.publish(&topic, request, options).await?;
                Ok(true)
            }
            // A paused run is finished by the durable agent from its run store.
            Some(record) => {
                store.remove(run_id, record.generation).await?;
                Ok(false)
            }
            None => Ok(false),
        }
    }
}

#[async_trait]
impl ExecutionEngine for EventedEngine {
    fn name(&self) -> &str {
        "evented"
    }

    async fn start(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError> {
        self.queue_run(ctx, run).await
    }

    async fn resume(&self, ctx: &RunContext, run: EngineRun) -> Result<(), DurableError> {
        self.queue_run(ctx, run).await
    }

    async fn abort(&self, run_id: &str) -> bool {
        let local = lock(&self.inner.local).get(run_id).map(|(_, a)| a.clone());
        let executing = lock(&self.inner.executing).get(run_id).cloned();
        for signal in local.iter().chain(executing.iter()) {
            signal.abort();
        }
        match self.request_abort(run_id).await {
            Ok(active) => active || executing.is_some(),
            Err(error) => {
                tracing::warn!(%run_id, %error, "cannot request the run's abort");
                executing.is_some()
            }
        }
    }

    fn status(&self, run_id: &str) -> Option<RunStatus> {
        let known = lock(&self.inner.executing).contains_key(run_id)
            || lock(&self.inner.local).contains_key(run_id);
        known.then_some(RunStatus::Running)
    }
}
