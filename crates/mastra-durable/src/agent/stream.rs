//! The chunk stream of a durable run: read from the run's channel, so dropping it does not
//! stop the run.

use super::channel::EventStream;
use super::envelope::event_chunk;
use super::DurableAgent;
use crate::DurableError;
use futures::{Stream, StreamExt};
use mastra_core::{AbortSignal, AgentOutput, Chunk, OutputCollector};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Chunks of one durable run, in order, ending after the terminal chunk. A failure of the
/// channel (an expired log, a lost connection with no log to catch up from) is an `Err`
/// item, after which the stream ends. Dropping it leaves the run going.
pub struct DurableStream {
    run_id: String,
    events: EventStream,
    abort: AbortSignal,
    agent: DurableAgent,
    thread_id: Option<String>,
    resource_id: Option<String>,
    /// The index after the last event read: where a reconnecting reader starts.
    next_offset: u64,
    done: bool,
}

impl fmt::Debug for DurableStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableStream")
            .field("run_id", &self.run_id)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl DurableStream {
    pub(super) fn new(
        agent: DurableAgent,
        run_id: String,
        events: EventStream,
        abort: AbortSignal,
    ) -> Self {
        Self {
            run_id,
            events,
            abort,
            agent,
            thread_id: None,
            resource_id: None,
            next_offset: 0,
            done: false,
        }
    }

    pub(super) fn with_memory(
        mut self,
        thread_id: Option<String>,
        resource_id: Option<String>,
    ) -> Self {
        self.thread_id = thread_id;
        self.resource_id = resource_id;
        self
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The index after the last event this stream read: pass it to
    /// [`DurableAgent::observe`] to pick up where this stream left off.
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    pub fn thread_id(&self) -> Option<&str> {
        self.thread_id.as_deref()
    }

    pub fn resource_id(&self) -> Option<&str> {
        self.resource_id.as_deref()
    }

    /// Aborts the run; the stream still delivers its `finish` chunk with reason `abort`.
    /// A run executing here stops through its abort signal; a paused run (which no executor
    /// watches) or one executing elsewhere is reached through
    /// [`DurableAgent::abort_run`], in a background task.
    pub fn abort(&self) {
        self.abort.abort();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (agent, run_id) = (self.agent.clone(), self.run_id.clone());
            runtime.spawn(async move {
                if let Err(error) = agent.abort_run(&run_id).await {
                    tracing::warn!(%run_id, %error, "cannot abort the run");
                }
            });
        }
    }

    /// A handle that aborts this run when it executes in this process; use
    /// [`DurableAgent::abort_run`] to reach it anywhere.
    pub fn abort_handle(&self) -> AbortSignal {
        self.abort.clone()
    }

    /// Removes the run's state and logged events now (see [`DurableAgent::cleanup`]).
    pub async fn cleanup(&self) -> Result<(), DurableError> {
        self.agent.cleanup(&self.run_id).await
    }

    /// Reads the rest of the stream and folds it into the run's output.
    pub async fn output(mut self) -> Result<AgentOutput, DurableError> {
        let mut collector = OutputCollector::new();
        while let Some(chunk) = self.next().await {
            if collector.push(&chunk?) {
                break;
            }
        }
        let mut output = collector.finish()?;
        output.run_id.clone_from(&self.run_id);
        output.thread_id = self.thread_id.take();
        output.resource_id = self.resource_id.take();
        Ok(output)
    }
}

impl Stream for DurableStream {
    type Item = Result<Chunk, DurableError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let event = match self.events.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.done = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(error))) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(Some(Ok(event))) => event,
            };
            if let Some(index) = event.index {
                self.next_offset = index + 1;
            }
            if event.is_terminal() {
                self.done = true;
            }
            if let Some(chunk) = event_chunk(&event) {
                return Poll::Ready(Some(Ok(chunk)));
            }
        }
    }
}
