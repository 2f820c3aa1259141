//! The chunk stream of a running agent, with its run id and abort handle.

use super::OutputCollector;
use crate::{AbortSignal, AgentError, AgentOutput, Chunk};
use futures::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Chunks of one run, in order, ending after the terminal chunk. Dropping it aborts the run.
#[derive(Debug)]
pub struct AgentStream {
    run_id: String,
    chunks: mpsc::Receiver<Chunk>,
    abort: AbortSignal,
}

impl AgentStream {
    pub(super) fn new(run_id: String, chunks: mpsc::Receiver<Chunk>, abort: AbortSignal) -> Self {
        Self {
            run_id,
            chunks,
            abort,
        }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// A handle that aborts this run; it can be moved elsewhere.
    pub fn abort_handle(&self) -> AbortSignal {
        self.abort.clone()
    }

    /// Aborts the run; the stream still delivers the `finish` chunk with reason `abort`.
    pub fn abort(&self) {
        self.abort.abort();
    }

    /// Reads the rest of the stream and folds it into the run's output.
    pub async fn output(mut self) -> Result<AgentOutput, AgentError> {
        let mut collector = OutputCollector::new();
        while let Some(chunk) = self.chunks.recv().await {
            if collector.push(&chunk) {
                break;
            }
        }
        collector.finish()
    }
}

impl Stream for AgentStream {
    type Item = Chunk;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        self.chunks.poll_recv(cx)
    }
}

impl Drop for AgentStream {
    fn drop(&mut self) {
        // Nobody reads the chunks any more: stop the model and the tools.
        self.abort.abort();
    }
}
