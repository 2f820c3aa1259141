//! A producer's non-waiting path: queue events now, learn how they ended at `flush`.

use std::sync::{Arc, Mutex};

use mastra_pubsub::{Event, PublishOptions};
use tokio::sync::Notify;

use super::{lock, write_failed, Done, Writers};
use crate::DurableError;

/// What became of one producer's queued events.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    state: Mutex<TrackerState>,
    settled: Notify,
}

#[derive(Debug, Default)]
struct TrackerState {
    outstanding: u64,
    last_index: Option<u64>,
    /// The first failure: sticky, every later send and flush reports it.
    failure: Option<Arc<DurableError>>,
}

impl Tracker {
    pub(crate) fn failure(&self) -> Option<Arc<DurableError>> {
        lock(&self.state).failure.clone()
    }

    fn queued(&self) {
        lock(&self.state).outstanding += 1;
    }

    /// An event counted by [`queued`](Self::queued) that never made it into the queue.
    fn not_queued(&self) {
        let mut state = lock(&self.state);
        state.outstanding = state.outstanding.saturating_sub(1);
        if state.outstanding == 0 {
            self.settled.notify_waiters();
        }
    }

    pub(crate) fn settle(&self, outcome: Result<Option<u64>, DurableError>) {
        let mut state = lock(&self.state);
        state.outstanding = state.outstanding.saturating_sub(1);
        match outcome {
            Ok(Some(index)) => state.last_index = Some(index),
            Ok(None) => {}
            Err(error) => {
                if state.failure.is_none() {
                    state.failure = Some(match error {
                        DurableError::WriteFailed { source, .. } => source,
                        other => Arc::new(other),
                    });
                }
            }
        }
        if state.outstanding == 0 {
            self.settled.notify_waiters();
        }
    }
}

/// One producer's ordered, non-waiting writes to one topic of a pipelined
/// [`CachingPubSub`](crate::CachingPubSub) (see [`sender`](crate::CachingPubSub::sender)).
///
/// [`send`](Self::send) queues an event behind everything queued on the topic (by any
/// producer) and returns at once, unless the topic's queue is full; [`flush`](Self::flush)
/// waits until this producer's events are logged and published. A write that fails after
/// its retries fails every later `send` and `flush` of this sender: none of its events is
/// written after one that was lost.
#[derive(Debug, Clone)]
pub struct TopicSender {
    writers: Writers,
    topic: String,
    tracker: Arc<Tracker>,
}

impl TopicSender {
    pub(crate) fn new(writers: Writers, topic: String) -> Self {
        Self {
            writers,
            topic,
            tracker: Arc::default(),
        }
    }

    /// The topic this sender writes.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Queues `event` (its own `index` is ignored). `local_only` events are not logged,
    /// but keep their place in the order.
    pub async fn send(
        &self,
        mut event: Event,
        options: PublishOptions,
    ) -> Result<(), DurableError> {
        if let Some(cause) = self.tracker.failure() {
            return Err(write_failed(&self.topic, cause));
        }
        event.index = None;
        let entry = (!options.local_only).then(|| self.writers.log().entry(&event));
        self.tracker.queued();
        let done = Done::Track(self.tracker.clone());
        let queued = self
            .writers
            .enqueue(&self.topic, event, entry, options, done)
            .await;
        if queued.is_err() {
            // Never queued: it will not be settled, and a flush must not wait for it.
            self.tracker.not_queued();
        }
        queued
    }

    /// Waits until every event sent so far is logged and published; returns the index of
    /// the last logged one, or the failure that stopped this sender.
    pub async fn flush(&self) -> Result<Option<u64>, DurableError> {
        loop {
            let settled = self.tracker.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            {
                let state = lock(&self.tracker.state);
                if let Some(cause) = &state.failure {
                    return Err(write_failed(&self.topic, cause.clone()));
                }
                if state.outstanding == 0 {
                    return Ok(state.last_index);
                }
            }
            settled.await;
        }
    }

    /// The index of the last logged event of this sender whose write has completed; exact
    /// after a [`flush`](Self::flush).
    pub fn last_index(&self) -> Option<u64> {
        lock(&self.tracker.state).last_index
    }
}
