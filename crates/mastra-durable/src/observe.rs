//! Observing a topic from an offset: replay from the log, then live, with no gap and no
//! duplicate, and catch-up reads whenever the live transport may have dropped something.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{BoxStream, StreamExt};
use mastra_pubsub::{Delivery, Event, PubSub, Subscription};

use crate::log::{parse_entry, RunLog};
use crate::DurableError;

/// How to observe a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObserveOptions {
    /// First index to deliver (inclusive); a reconnecting reader passes `last index + 1`.
    pub offset: u64,
    /// End with [`DurableError::IdleTimeout`] when no event arrives for this long.
    pub idle_timeout: Option<Duration>,
    /// End right after delivering a terminal event (`finish`, `error`, `abort`).
    pub end_on_terminal: bool,
    /// Fail with [`DurableError::UnknownRun`] at once when nothing is logged for the topic.
    pub require_existing: bool,
}

impl Default for ObserveOptions {
    fn default() -> Self {
        Self {
            offset: 0,
            idle_timeout: None,
            end_on_terminal: true,
            require_existing: true,
        }
    }
}

impl ObserveOptions {
    /// Observe an existing run from `offset`.
    pub fn from_offset(offset: u64) -> Self {
        Self {
            offset,
            ..Self::default()
        }
    }

    /// These options with an idle timeout.
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }

    /// These options, accepting a topic with nothing logged yet (it waits for live events).
    pub fn allow_missing(mut self) -> Self {
        self.require_existing = false;
        self
    }

    /// These options, delivering past terminal events.
    pub fn through_terminal(mut self) -> Self {
        self.end_on_terminal = false;
        self
    }
}

/// Events of one topic from an offset: first from the log, then live. Every index at or
/// above the offset is delivered exactly once and in order; events that bypass the log
/// (`local_only`) pass through as they come. Dropping it unsubscribes.
pub struct ReplaySubscription {
    topic: String,
    log: RunLog,
    live: Subscription,
    live_closed: bool,
    /// Raw log entries still to deliver; the front one is at `next_index`.
    backlog: VecDeque<String>,
    next_index: u64,
    options: ObserveOptions,
    finished: bool,
    catch_ups: u64,
}

impl ReplaySubscription {
    pub(crate) async fn open(
        inner: &dyn PubSub,
        log: RunLog,
        topic: &str,
        options: ObserveOptions,
    ) -> Result<Self, DurableError> {
        // Live first: whatever is published from here on queues in `live`, so the history
        // read below cannot miss it; duplicates are dropped by index.
        let live = inner.subscribe(topic).await?;
        let backlog: VecDeque<String> = log.read_raw(topic, options.offset, None).await?.into();
        let mut subscription = Self {
            topic: topic.to_owned(),
            log,
            live,
            live_closed: false,
            backlog,
            next_index: options.offset,
            options,
            finished: false,
            catch_ups: 0,
        };
        if subscription.backlog.is_empty() {
            subscription.check_start().await?;
        }
        Ok(subscription)
    }

    /// With nothing to replay: refuse an unknown run, and end at once at the end of a run
    /// that already finished instead of waiting for events that will never come.
    async fn check_start(&mut self) -> Result<(), DurableError> {
        let len = self.log.len(&self.topic).await?;
        if len == 0 {
            if self.options.require_existing {
                return Err(DurableError::UnknownRun {
                    topic: self.topic.clone(),
                });
            }
            return Ok(());
        }
        if self.options.end_on_terminal && self.next_index >= len {
            let last = self.log.read(&self.topic, len - 1, Some(len - 1)).await?;
            self.finished = last.first().is_some_and(Event::is_terminal);
        }
        Ok(())
    }

    /// The observed topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The index the next logged event will carry.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// How many times the log was read again to fill a gap in live delivery.
    pub fn catch_up_count(&self) -> u64 {
        self.catch_ups
    }

    /// The next event; `None` after a terminal event (or when the transport shut down);
    /// an error ends the subscription.
    pub async fn next(&mut self) -> Option<Result<Arc<Event>, DurableError>> {
        loop {
            if self.finished {
                return None;
            }
            if let Some(raw) = self.backlog.pop_front() {
                return Some(match parse_entry(&self.topic, self.next_index, &raw) {
                    Ok(event) => Ok(self.deliver(Arc::new(event))),
                    Err(error) => Err(self.fail(error)),
                });
            }
            let delivery = match self.wait_live().await {
                Ok(delivery) => delivery,
                Err(error) => return Some(Err(self.fail(error))),
            };
            let event = match delivery {
                Some(Delivery::Event(event)) => event,
                None => {
                    // The transport is gone: what reached the log is still delivered.
                    self.live_closed = true;
                    if let Err(error) = self.catch_up().await {
                        return Some(Err(self.fail(error)));
                    }
                    if self.backlog.is_empty() {
                        self.finished = true;
                    }
                    continue;
                }
                // Lagged, reconnected, or anything a newer transport may report.
                Some(_) => {
                    if let Err(error) = self.catch_up().await {
                        return Some(Err(self.fail(error)));
                    }
                    continue;
                }
            };
            match event.index {
                None => return Some(Ok(self.deliver(event))),
                Some(index) if index < self.next_index => continue,
                Some(index) if index == self.next_index => return Some(Ok(self.deliver(event))),
                Some(index) => {
                    // Skipped ahead: the missing events are in the log (written before
                    // they were published), unless the log lost them.
                    if let Err(error) = self.catch_up().await {
                        return Some(Err(self.fail(error)));
                    }
                    if self.next_index + (self.backlog.len() as u64) <= index {
                        let gap = DurableError::Gap {
                            topic: self.topic.clone(),
                            expected: self.next_index,
                            found: index,
                        };
                        return Some(Err(self.fail(gap)));
                    }
                }
            }
        }
    }

    /// This subscription as a `Stream`.
    pub fn into_stream(self) -> BoxStream<'static, Result<Arc<Event>, DurableError>> {
        futures::stream::unfold(self, |mut subscription| async move {
            let item = subscription.next().await?;
            Some((item, subscription))
        })
        .boxed()
    }

    async fn wait_live(&mut self) -> Result<Option<Delivery>, DurableError> {
        if self.live_closed {
            return Ok(None);
        }
        match self.options.idle_timeout {
            None => Ok(self.live.next().await),
            Some(idle) => tokio::time::timeout(idle, self.live.next())
                .await
                .map_err(|_| DurableError::IdleTimeout {
                    topic: self.topic.clone(),
                    idle,
                }),
        }
    }

    /// Reads the log from the next undelivered index (the backlog is empty here).
    async fn catch_up(&mut self) -> Result<(), DurableError> {
        self.catch_ups += 1;
        let missed = self
            .log
            .read_raw(&self.topic, self.next_index, None)
            .await?;
        self.backlog.extend(missed);
        Ok(())
    }

    fn deliver(&mut self, event: Arc<Event>) -> Arc<Event> {
        if let Some(index) = event.index {
            self.next_index = index + 1;
        }
        if self.options.end_on_terminal && event.is_terminal() {
            self.finished = true;
        }
        event
    }

    fn fail(&mut self, error: DurableError) -> DurableError {
        self.finished = true;
        error
    }
}

impl fmt::Debug for ReplaySubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplaySubscription")
            .field("topic", &self.topic)
            .field("next_index", &self.next_index)
            .field("backlog", &self.backlog.len())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
