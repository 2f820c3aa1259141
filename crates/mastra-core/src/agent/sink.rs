//! Where the loop's chunks go: a channel for a plain agent, the run log for a durable one.

use crate::Chunk;
use std::future::Future;
use tokio::sync::mpsc;

/// Nobody is listening any more; the loop stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("chunk sink closed")]
pub struct SinkClosed;

/// Receives every chunk of a run, in order.
pub trait ChunkSink: Send {
    fn emit(&mut self, chunk: Chunk) -> impl Future<Output = Result<(), SinkClosed>> + Send;

    /// Waits until every chunk emitted so far is where the sink puts it. A sink that writes
    /// behind (a durable run's pipelined log) lets `emit` return before; the loop flushes
    /// at the end of every step, so that state saved after a step never names chunks that
    /// are not written yet. Immediate sinks have nothing to wait for.
    fn flush(&mut self) -> impl Future<Output = Result<(), SinkClosed>> + Send {
        std::future::ready(Ok(()))
    }

    /// The run-ownership generation this sink's writes carry, when an engine fences runs
    /// (reported on the run's spans).
    fn generation(&self) -> Option<u64> {
        None
    }
}

impl ChunkSink for mpsc::Sender<Chunk> {
    async fn emit(&mut self, chunk: Chunk) -> Result<(), SinkClosed> {
        self.send(chunk).await.map_err(|_| SinkClosed)
    }
}

impl ChunkSink for Vec<Chunk> {
    async fn emit(&mut self, chunk: Chunk) -> Result<(), SinkClosed> {
        self.push(chunk);
        Ok(())
    }
}
