//! Workers: members of a competing consumer group on the `workflows` topic, each taking one
//! step at a time. A message is acknowledged only once its step is complete and the next
//! step is queued, so a worker that dies mid-step leaves it for another worker.

use crate::task::{Task, WORKFLOWS_TOPIC};
use crate::WorkflowError;
use async_trait::async_trait;
use mastra_pubsub::{GroupSubscription, PubSub};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// What takes the steps of queued tasks (a workflow engine, the evented agent engine).
#[async_trait]
pub trait TaskHandler: Send + Sync + fmt::Debug {
    /// Whether tasks of this workflow id are this handler's (others are skipped).
    fn accepts(&self, workflow_id: &str) -> bool;

    /// Takes the task's step as `owner`; `attempt` is the message's delivery attempt. A
    /// handler that goes on with the run's next steps itself (instead of queueing them)
    /// stops doing so once `stop` is raised.
    async fn handle(
        &self,
        task: Task,
        attempt: u32,
        owner: &str,
        stop: &StopSignal,
    ) -> Result<(), WorkflowError>;
}

/// Raised when the workers are asked to stop ([`WorkerHandle::stop`]).
#[derive(Debug, Clone)]
pub struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    /// Whether the workers are stopping.
    pub fn is_raised(&self) -> bool {
        *self.0.borrow()
    }
}

/// Running workers; [`stop`](Self::stop) them, or drop the handle to abort them.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    owners: Vec<String>,
}

impl fmt::Debug for WorkerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerHandle")
            .field("owners", &self.owners)
            .finish_non_exhaustive()
    }
}

impl WorkerHandle {
    /// The owner ids the workers claim runs with.
    pub fn owners(&self) -> &[String] {
        &self.owners
    }

    /// Lets every worker finish its current step (saved, and its successor queued), then
    /// stops them.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }

    /// Stops the workers at once, as a crash would: a step in progress is abandoned and
    /// its message, never acknowledged, goes back to the group.
    pub fn abort(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Joins `group` with `count` members (subscribed before this returns) and starts them.
pub(crate) async fn start(
    pubsub: Arc<dyn PubSub>,
    group: &str,
    instance: &str,
    count: usize,
    handler: Arc<dyn TaskHandler>,
) -> Result<WorkerHandle, WorkflowError> {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::with_capacity(count);
    let mut owners = Vec::with_capacity(count);
    for n in 0..count {
        let subscription = pubsub.subscribe_group(WORKFLOWS_TOPIC, group).await?;
        let owner = format!("{instance}/{n}");
        owners.push(owner.clone());
        let worker = work(subscription, handler.clone(), owner, stopped.clone());
        tasks.push(tokio::spawn(worker));
    }
    Ok(WorkerHandle {
        stop,
        tasks,
        owners,
    })
}

async fn work(
    mut messages: GroupSubscription,
    handler: Arc<dyn TaskHandler>,
    owner: String,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let message = tokio::select! {
            // A stop comes first, even with a message waiting.
            biased;
            _ = stopped.changed() => return,
            message = messages.next() => message,
        };
        let Some(message) = message else { return };
        let attempt = message.event().delivery_attempt.unwrap_or(1);
        let task = Task::from_event(message.event());
        let Some(task) = task.filter(|t| handler.accepts(&t.workflow_id)) else {
            settle(message.ack().await);
            continue;
        };
        let run_id = task.run_id.clone();
        let span = tracing::info_span!(
            "workflow.step",
            workflow_id = %task.workflow_id,
            run_id = %task.run_id,
            step = task.step,
            attempt,
            owner = %owner,
        );
        let stop = StopSignal(stopped.clone());
        let handled = handler.handle(task, attempt, &owner, &stop);
        match handled.instrument(span).await {
            Ok(()) => settle(message.ack().await),
            Err(error)
                if error.is_retryable() || matches!(error, WorkflowError::UnknownWorkflow(_)) =>
            {
                // Another worker (or a later try) may do better; do not spin on it.
                tracing::warn!(%run_id, %error, attempt, "step not taken; handing it back");
                tokio::time::sleep(Duration::from_millis(50)).await;
                settle(message.nack().await);
            }
            Err(error) => {
                tracing::error!(%run_id, %error, "step failed for good; dropping its message");
                settle(message.ack().await);
            }
        }
    }
}

fn settle(result: Result<(), mastra_pubsub::PubSubError>) {
    if let Err(error) = result {
        tracing::warn!(%error, "cannot settle a workflow message");
    }
}
