//! The durable sink: every chunk of a run goes into the run's channel as an envelope.

use super::channel::RunChannel;
use super::envelope::chunk_event;
use crate::engine::{metrics, WriteFence};
use crate::writer::{FIRST_BACKOFF, WRITE_ATTEMPTS};
use crate::{DurableError, TopicSender};
use mastra_core::{Chunk, ChunkKind, ChunkSink, SinkClosed};
use mastra_pubsub::{Event, PublishOptions};
use std::sync::Arc;

/// Writes a run's chunks to its channel, in order. From a chunk that announces a pause
/// (`tool-call-approval`, `tool-call-suspended`) on, chunks are held back until the paused
/// state is stored and [`release`](Self::release)d: a reader who answers the announcement
/// at once must find the state to continue from.
///
/// On a pipelined channel, chunks are queued without waiting for their append, and the
/// sink waits for them ([`flush`](ChunkSink::flush)) where it matters: before a terminal
/// chunk's `emit` returns, when a pause is released, and at the end of every agent step,
/// so that [`last_index`](Self::last_index) is exact when an engine checkpoints the run.
#[derive(Debug)]
pub struct EventSink {
    channel: RunChannel,
    /// The run's queue, when the channel is pipelined.
    sender: Option<TopicSender>,
    run_id: String,
    /// Why the sink closed, when it did.
    failure: Option<DurableError>,
    holding: bool,
    held: Vec<Chunk>,
    /// The run-ownership generation stamped on every event, when an engine fences runs.
    generation: Option<u64>,
    /// Asked before every write; a superseded executor writes nothing.
    fence: Option<Arc<dyn WriteFence>>,
    /// The index of the last logged event this sink wrote.
    last_index: Option<u64>,
}

impl EventSink {
    pub fn new(channel: RunChannel, run_id: impl Into<String>) -> Self {
        let run_id = run_id.into();
        Self {
            sender: channel.sender(&run_id),
            channel,
            run_id,
            failure: None,
            holding: false,
            held: Vec::new(),
            generation: None,
            fence: None,
            last_index: None,
        }
    }

    /// Stamps every event with `generation` and asks `fence` before each write: once it
    /// refuses, the sink closes and writes nothing more.
    pub fn fenced(mut self, generation: u64, fence: Arc<dyn WriteFence>) -> Self {
        self.generation = Some(generation);
        self.fence = Some(fence);
        self
    }

    /// The ownership generation this sink stamps on events, if fenced.
    pub fn generation(&self) -> Option<u64> {
        self.generation
    }

    /// The index of the last logged event this sink wrote, if any (as of the last flush,
    /// on a pipelined channel: every agent step ends with one).
    pub fn last_index(&self) -> Option<u64> {
        self.last_index
    }

    /// Writes the chunks held back since a pause was announced (once its state is stored).
    pub async fn release(&mut self) -> Result<(), SinkClosed> {
        self.holding = false;
        for chunk in std::mem::take(&mut self.held) {
            self.write_chunk(&chunk).await?;
        }
        self.flush_queued().await
    }

    /// Waits until every chunk queued so far is logged and published.
    async fn flush_queued(&mut self) -> Result<(), SinkClosed> {
        let Some(sender) = &self.sender else {
            return Ok(());
        };
        match sender.flush().await {
            Ok(index) => {
                if index.is_some() {
                    self.last_index = index;
                }
                Ok(())
            }
            Err(error) => Err(self.closed(error)),
        }
    }

    fn closed(&mut self, error: DurableError) -> SinkClosed {
        tracing::error!(run_id = %self.run_id, %error, "cannot write the run's events");
        self.failure = Some(error);
        SinkClosed
    }

    async fn write_chunk(&mut self, chunk: &Chunk) -> Result<(), SinkClosed> {
        if let Some(fence) = &self.fence {
            if !fence.may_write(chunk.is_terminal()).await {
                self.failure = Some(DurableError::RunState {
                    run_id: self.run_id.clone(),
                    reason: "superseded: another executor owns the run now".into(),
                });
                return Err(SinkClosed);
            }
        }
        let generation = self.generation;
        let event = || {
            let event = chunk_event(chunk)?;
            Ok(match generation {
                Some(generation) => event.with_generation(generation),
                None => event,
            })
        };
        if let Some(sender) = &self.sender {
            // Queued: the writer retries; a failure comes back from a later send or flush.
            let queued = match event() {
                Ok(event) => sender.send(event, PublishOptions::default()).await,
                Err(error) => Err(DurableError::Encoding(error)),
            };
            if let Err(error) = queued {
                return Err(self.closed(error));
            }
            metrics::event_written(true);
            return match chunk.is_terminal() {
                true => self.flush_queued().await,
                false => Ok(()),
            };
        }
        match write(&self.channel, &self.run_id, event).await {
            Ok(index) => {
                if index.is_some() {
                    self.last_index = index;
                }
                Ok(())
            }
            Err(error) => Err(self.closed(error)),
        }
    }

    /// The error that closed the sink.
    pub fn take_failure(&mut self) -> Option<DurableError> {
        self.failure.take()
    }
}

impl ChunkSink for EventSink {
    fn generation(&self) -> Option<u64> {
        self.generation
    }

    async fn emit(&mut self, chunk: Chunk) -> Result<(), SinkClosed> {
        let announces_pause = matches!(
            chunk.kind,
            ChunkKind::ToolCallApproval(_) | ChunkKind::ToolCallSuspended(_)
        );
        if (self.holding || announces_pause) && !chunk.is_terminal() {
            self.holding = true;
            self.held.push(chunk);
            return Ok(());
        }
        // A terminal chunk (an abort, a failure) ends the run instead of the pause.
        if self.holding {
            self.release().await?;
        }
        self.write_chunk(&chunk).await
    }

    async fn flush(&mut self) -> Result<(), SinkClosed> {
        self.flush_queued().await
    }
}

/// Writes one event, retrying retryable failures with backoff so that a blip of the log's
/// backend neither drops nor reorders events (the next event waits for this one). The event
/// is built anew for each attempt, so the common case pays for no copy. On a pipelined
/// channel the topic's writer has retried already: its failure is not retryable here.
pub(crate) async fn write(
    channel: &RunChannel,
    run_id: &str,
    event: impl Fn() -> Result<Event, serde_json::Error>,
) -> Result<Option<u64>, DurableError> {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match channel.publish(run_id, event()?).await {
            Ok(index) => return Ok(index),
            Err(error) if error.is_retryable() && attempt < WRITE_ATTEMPTS => {
                tracing::warn!(run_id, attempt, %error, "writing a run event failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}
