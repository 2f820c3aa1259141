//! The workflow engine: starts runs, takes their queued steps, reports their outcome.

use super::{Node, Workflow};
use crate::claim::Claim;
use crate::store::{Enqueue, InMemoryWorkflowStore, RunPhase, StoredRun, WorkflowStore};
use crate::task::{Task, AGENT_WORKFLOW_PREFIX, WORKFLOWS_TOPIC};
use crate::worker::{self, StopSignal, TaskHandler, WorkerHandle};
use crate::{WorkflowError, DEFAULT_LEASE_TTL};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use mastra_pubsub::{
    Delivery, Event, EventType, InProcessLeases, LeaseProvider, PubSub, PublishOptions,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The consumer group of workflow workers on the `workflows` topic.
pub const WORKFLOW_WORKER_GROUP: &str = "mastra-workflow-workers";
const END: &str = "workflow.end";
const FAIL: &str = "workflow.fail";

/// Where a run stands, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    node: usize,
    value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Runs registered workflows as queued steps. Cheap to clone.
#[derive(Clone)]
pub struct WorkflowEngine {
    inner: Arc<Inner>,
}

struct Inner {
    instance: String,
    pubsub: Arc<dyn PubSub>,
    store: Arc<dyn WorkflowStore>,
    leases: Arc<dyn LeaseProvider>,
    lease_ttl: Duration,
    workflows: RwLock<HashMap<String, Arc<Vec<Node>>>>,
}

impl fmt::Debug for WorkflowEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowEngine")
            .field("instance", &self.inner.instance)
            .finish_non_exhaustive()
    }
}

/// Builds a [`WorkflowEngine`].
pub struct WorkflowEngineBuilder {
    pubsub: Arc<dyn PubSub>,
    store: Option<Arc<dyn WorkflowStore>>,
    lease_ttl: Duration,
}

impl fmt::Debug for WorkflowEngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowEngineBuilder")
            .finish_non_exhaustive()
    }
}

impl WorkflowEngineBuilder {
    /// Where runs are stored (in memory by default).
    pub fn store(mut self, store: Arc<dyn WorkflowStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How long a worker's claim on a run lasts without renewal.
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl.max(Duration::from_millis(3));
        self
    }

    pub fn build(self) -> WorkflowEngine {
        let leases = self
            .pubsub
            .lease_provider()
            .unwrap_or_else(|| Arc::new(InProcessLeases::new()));
        WorkflowEngine {
            inner: Arc::new(Inner {
                instance: uuid::Uuid::new_v4().to_string(),
                pubsub: self.pubsub,
                store: self
                    .store
                    .unwrap_or_else(|| Arc::new(InMemoryWorkflowStore::new())),
                leases,
                lease_ttl: self.lease_ttl,
                workflows: Default::default(),
            }),
        }
    }
}

impl WorkflowEngine {
    pub fn builder(pubsub: Arc<dyn PubSub>) -> WorkflowEngineBuilder {
        WorkflowEngineBuilder {
            pubsub,
            store: None,
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }

    /// Lets this instance's workers run `workflow`.
    pub fn register<I, O>(&self, workflow: &Workflow<I, O>) {
        let mut workflows = self
            .inner
            .workflows
            .write()
            .unwrap_or_else(|e| e.into_inner());
        workflows.insert(workflow.id.clone(), workflow.nodes.clone());
    }

    /// Starts `count` workers (subscribed when this returns).
    pub async fn start_workers(&self, count: usize) -> Result<WorkerHandle, WorkflowError> {
        let (pubsub, instance) = (self.inner.pubsub.clone(), &self.inner.instance);
        let handler = Arc::new(self.clone());
        worker::start(pubsub, WORKFLOW_WORKER_GROUP, instance, count, handler).await
    }

    /// Stores a new run of `workflow` and queues its first step; returns the run id.
    pub async fn start<I: Serialize, O>(
        &self,
        workflow: &Workflow<I, O>,
        input: I,
    ) -> Result<String, WorkflowError> {
        let run_id = uuid::Uuid::new_v4().to_string();
        let progress = Progress {
            node: 0,
            value: serde_json::to_value(input)?,
            error: None,
        };
        let record = StoredRun {
            run_id: run_id.clone(),
            workflow_id: workflow.id.clone(),
            step: 0,
            generation: 0,
            phase: RunPhase::Active,
            cancel_requested: false,
            held: false,
            data: serde_json::to_string(&progress)?,
        };
        self.inner.store.put(&record).await?;
        self.publish(Task::new(workflow.id.clone(), run_id.clone(), 0).to_event()?)
            .await?;
        Ok(run_id)
    }

    /// Waits for the run's outcome: its output, or the step error that ended it.
    pub async fn result<I, O: DeserializeOwned>(
        &self,
        _workflow: &Workflow<I, O>,
        run_id: &str,
    ) -> Result<O, WorkflowError> {
        // Subscribe first, so that an end published meanwhile is not missed.
        let mut events = self.inner.pubsub.subscribe(WORKFLOWS_TOPIC).await?;
        loop {
            let record = self.inner.store.load(run_id).await?;
            let record = record.ok_or_else(|| WorkflowError::UnknownRun(run_id.to_owned()))?;
            if record.phase == RunPhase::Finished {
                let progress: Progress = serde_json::from_str(&record.data)?;
                return match progress.error {
                    Some(reason) => Err(WorkflowError::Ended {
                        run_id: run_id.to_owned(),
                        reason,
                    }),
                    None => Ok(serde_json::from_value(progress.value)?),
                };
            }
            loop {
                match events.next().await {
                    Some(Delivery::Event(event)) if event.run_id != run_id => continue,
                    Some(Delivery::Event(event)) if !matches!(event.kind.as_str(), END | FAIL) => {
                        continue
                    }
                    Some(_) => break,
                    None => return Err(WorkflowError::UnknownRun(run_id.to_owned())),
                }
            }
        }
    }

    async fn publish(&self, event: Event) -> Result<(), WorkflowError> {
        let options = PublishOptions::default();
        self.inner
            .pubsub
            .publish(WORKFLOWS_TOPIC, event, options)
            .await?;
        Ok(())
    }

    fn nodes(&self, id: &str) -> Option<Arc<Vec<Node>>> {
        let workflows = self
            .inner
            .workflows
            .read()
            .unwrap_or_else(|e| e.into_inner());
        workflows.get(id).cloned()
    }

    async fn take_step(
        &self,
        nodes: &[Node],
        task: &Task,
        attempt: u32,
        claim: &Claim,
        record: Option<StoredRun>,
    ) -> Result<(), WorkflowError> {
        let store = &self.inner.store;
        let Some(record) = record else {
            return Ok(());
        };
        let redelivered = attempt > 1 && record.step > task.step;
        if record.phase != RunPhase::Active || (record.step != task.step && !redelivered) {
            return Ok(());
        }
        let mut progress: Progress = serde_json::from_str(&record.data)?;
        let (node, value) = (progress.node, progress.value.clone());
        let outcome = match nodes.get(node) {
            Some(Node::Then(step)) => step.run(value).await.map(|v| (v, node + 1)),
            Some(Node::LoopWhile(step, again)) => step
                .run(value)
                .await
                .map(|v| (v.clone(), if again(&v) { node } else { node + 1 })),
            Some(Node::ForEach(step, concurrency)) => {
                let items = match value {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                futures::stream::iter(items.into_iter().map(|item| step.run(item)))
                    .buffered(*concurrency)
                    .try_collect::<Vec<_>>()
                    .await
                    .map(|values| (Value::Array(values), node + 1))
            }
            None => Ok((value, node)),
        };
        let mut next = StoredRun {
            step: record.step + 1,
            generation: claim.generation,
            ..record
        };
        let ended = match outcome {
            Ok((value, node)) => {
                progress.node = node;
                progress.value = value;
                node >= nodes.len()
            }
            Err(error) => {
                progress.error = Some(error.to_string());
                true
            }
        };
        let failed = progress.error.is_some();
        if ended {
            next.phase = RunPhase::Finished;
        }
        next.data = serde_json::to_string(&progress)?;
        let event = match (ended, failed) {
            (false, _) => {
                Task::new(next.workflow_id.clone(), next.run_id.clone(), next.step).to_event()?
            }
            (true, failed) => {
                let kind = EventType::Other(if failed { FAIL } else { END }.to_owned());
                Event::new(kind, next.run_id.clone(), serde_json::to_value(&progress)?)
            }
        };
        // The next step (or the end) is published only once the state is saved: in the
        // same operation where the store also holds the leases and the queue.
        let next_message = Enqueue {
            pubsub: &*self.inner.pubsub,
            topic: WORKFLOWS_TOPIC,
            event,
        };
        if !claim
            .save_releasing_enqueueing(&**store, &next, next_message)
            .await?
        {
            return Err(WorkflowError::Superseded {
                run_id: task.run_id.clone(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl TaskHandler for WorkflowEngine {
    fn accepts(&self, workflow_id: &str) -> bool {
        !workflow_id.starts_with(AGENT_WORKFLOW_PREFIX)
    }

    /// One step per message: a workflow's steps are queued one by one.
    async fn handle(
        &self,
        task: Task,
        attempt: u32,
        owner: &str,
        _stop: &StopSignal,
    ) -> Result<(), WorkflowError> {
        let nodes = self
            .nodes(&task.workflow_id)
            .ok_or_else(|| WorkflowError::UnknownWorkflow(task.workflow_id.clone()))?;
        let leases = self.inner.leases.clone();
        let (claim, record) = Claim::acquire_loading(
            &*self.inner.store,
            leases,
            &task.run_id,
            owner,
            self.inner.lease_ttl,
        )
        .await?;
        let result = tokio::select! {
            result = self.take_step(&nodes, &task, attempt, &claim, record) => result,
            () = claim.clone().heartbeat() => Err(WorkflowError::Superseded { run_id: task.run_id.clone() }),
        };
        if !claim.is_lost() {
            claim.release().await;
        }
        result
    }
}
