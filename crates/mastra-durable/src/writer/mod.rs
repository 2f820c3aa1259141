//! Write-behind with group commit: the logged events of one topic go through that topic's
//! queue, and one task per busy topic appends everything queued with one
//! [`append_indexed_batch`](mastra_cache::ServerCache::append_indexed_batch), then
//! publishes each event live with its index, in order.
//!
//! With a cache whose every call is a round trip (Redis), awaiting one append per event
//! caps a run at one event per round trip; here a run's events share round trips, while
//! order and log-before-live hold per topic: every logged publish of a topic, awaited or
//! not, takes the same queue, and an event is published only once its batch is logged.
//! The task ends, and its queue leaves the map, as soon as the queue is empty (under the
//! map's lock, so a concurrent send either finds the queue or starts a new task).

mod sender;
mod task;

pub use sender::TopicSender;
pub(crate) use sender::Tracker;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use mastra_pubsub::{Event, PubSub, PublishOptions};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use crate::{DurableError, RunLog};

/// How often a failed write is tried, and the first pause (it doubles): the durable sink's
/// policy, so that a blip of the log's backend neither drops nor reorders events.
pub(crate) const WRITE_ATTEMPTS: u32 = 5;
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(20);

/// Most events appended by one batch, and most bytes of entries (whichever comes first).
const MAX_BATCH: usize = 256;
const MAX_BATCH_BYTES: usize = 1 << 20;
/// Most events queued (or in flight) per topic; a producer beyond it waits.
const MAX_QUEUED: usize = 4_096;

/// The per-topic queues of one [`CachingPubSub`](crate::CachingPubSub). Cheap to clone.
#[derive(Clone)]
pub(crate) struct Writers {
    shared: Arc<Shared>,
}

impl fmt::Debug for Writers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writers")
            .field("busy_topics", &self.busy_topics())
            .finish()
    }
}

struct Shared {
    log: RunLog,
    transport: Arc<dyn PubSub>,
    /// Busy topics only: a queue exists exactly while its task runs.
    topics: Mutex<HashMap<String, Queue>>,
}

struct Queue {
    items: VecDeque<Item>,
    /// Permits for queued events: the producers' backpressure.
    space: Arc<Semaphore>,
}

/// One queued item.
// Nearly every item is an event: boxing it would cost an allocation per event to shrink
// the rare barrier.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Item {
    /// An event to publish live, logged first when it has an entry.
    Event {
        event: Event,
        /// The log entry; `None` for a `local_only` event (published in its place in
        /// the order, never logged).
        entry: Option<String>,
        options: PublishOptions,
        done: Done,
        _permit: OwnedSemaphorePermit,
    },
    /// Settled once everything queued before it is.
    Barrier(oneshot::Sender<Result<(), DurableError>>),
}

/// Who learns how an event's write ended.
pub(crate) enum Done {
    /// A caller awaiting this event (`publish_event`).
    Wait(oneshot::Sender<Result<Option<u64>, DurableError>>),
    /// A producer that flushes later ([`TopicSender`]).
    Track(Arc<Tracker>),
}

impl Done {
    fn settle(self, outcome: Result<Option<u64>, DurableError>) {
        match self {
            Self::Wait(tx) => {
                // The caller may have stopped waiting; the event is written regardless.
                let _ = tx.send(outcome);
            }
            Self::Track(tracker) => tracker.settle(outcome),
        }
    }
}

impl Writers {
    pub(crate) fn new(log: RunLog, transport: Arc<dyn PubSub>) -> Self {
        Self {
            shared: Arc::new(Shared {
                log,
                transport,
                topics: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub(crate) fn busy_topics(&self) -> usize {
        lock(&self.shared.topics).len()
    }

    pub(crate) fn log(&self) -> &RunLog {
        &self.shared.log
    }

    /// Queues `event` behind everything queued on `topic`, starting the topic's task when
    /// it is idle; waits while the queue is full. A producer whose earlier write failed
    /// (`tracker`) is refused, so nothing of it is written after a lost event.
    pub(crate) async fn enqueue(
        &self,
        topic: &str,
        event: Event,
        entry: Option<String>,
        options: PublishOptions,
        done: Done,
    ) -> Result<(), DurableError> {
        let mut waited: Option<(Arc<Semaphore>, OwnedSemaphorePermit)> = None;
        loop {
            let space = {
                let mut topics = lock(&self.shared.topics);
                if let Done::Track(tracker) = &done {
                    if let Some(cause) = tracker.failure() {
                        return Err(write_failed(topic, cause));
                    }
                }
                let queue = match topics.get_mut(topic) {
                    Some(queue) => queue,
                    None => {
                        self.spawn(topic);
                        topics.entry(topic.to_owned()).or_insert_with(Queue::new)
                    }
                };
                let permit = match waited.take() {
                    Some((space, permit)) if Arc::ptr_eq(&space, &queue.space) => Ok(permit),
                    _ => queue.space.clone().try_acquire_owned(),
                };
                match permit {
                    Ok(permit) => {
                        queue.items.push_back(Item::Event {
                            event,
                            entry,
                            options,
                            done,
                            _permit: permit,
                        });
                        return Ok(());
                    }
                    Err(_) => queue.space.clone(),
                }
            };
            // Full: wait for room, then queue (if the queue was replaced meanwhile, the
            // permit belongs to the old one: ask again).
            let permit =
                space
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| DurableError::Backend {
                        source: "the topic's writer is gone".into(),
                        retryable: false,
                    })?;
            waited = Some((space, permit));
        }
    }

    /// Waits until everything queued on `topic` so far is written (or failed).
    pub(crate) async fn flush_topic(&self, topic: &str) -> Result<(), DurableError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut topics = lock(&self.shared.topics);
            let Some(queue) = topics.get_mut(topic) else {
                return Ok(()); // idle: nothing pending
            };
            queue.items.push_back(Item::Barrier(tx));
        }
        rx.await.unwrap_or(Ok(()))
    }

    /// Waits until everything queued on every topic so far is written.
    pub(crate) async fn flush_all(&self) -> Result<(), DurableError> {
        let busy: Vec<String> = lock(&self.shared.topics).keys().cloned().collect();
        let mut outcome = Ok(());
        for topic in busy {
            if let Err(error) = self.flush_topic(&topic).await {
                outcome = outcome.and(Err(error));
            }
        }
        outcome
    }

    /// Starts the task of a topic whose queue is being created (under the map's lock).
    fn spawn(&self, topic: &str) {
        tokio::spawn(task::drain(self.shared.clone(), topic.to_owned()));
    }
}

impl Queue {
    fn new() -> Self {
        Self {
            items: VecDeque::new(),
            space: Arc::new(Semaphore::new(MAX_QUEUED)),
        }
    }
}

/// The error of a write that failed after its retries (or was queued behind one).
pub(crate) fn write_failed(topic: &str, cause: Arc<DurableError>) -> DurableError {
    DurableError::WriteFailed {
        topic: topic.to_owned(),
        source: cause,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the map consistent: a panic cannot corrupt it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
