//! `CachingPubSub`: a pubsub decorator that logs each event with its index before
//! publishing it, so that observers can replay a topic from any offset.

use std::sync::Arc;

use async_trait::async_trait;
use mastra_cache::ServerCache;
use mastra_pubsub::{
    Event, GroupSubscription, LeaseProvider, PubSub, PubSubError, PublishOptions, Subscription,
};

use crate::observe::{ObserveOptions, ReplaySubscription};
use crate::topics::{AGENT_CONTROL_PREFIX, DEFAULT_KEY_PREFIX, WORKFLOWS_TOPIC};
use crate::writer::{Done, TopicSender, Writers};
use crate::{DurableError, RunLog};

/// Whether a [`CachingPubSub`] pipelines its log appends (write-behind with group commit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pipelining {
    /// As the cache prefers ([`ServerCache::prefers_batches`]): on for Redis, where every
    /// append is a round trip; off in process memory, where a task hop costs more than
    /// the append.
    #[default]
    Auto,
    /// Every logged publish of a topic goes through the topic's queue: one task per busy
    /// topic appends what is queued in one batch, then publishes each event, in order.
    On,
    /// Each publish awaits its own append.
    Off,
}

/// Which topics are logged, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachingOptions {
    /// Prefix of log keys inside the cache (default `pubsub:`).
    pub key_prefix: String,
    /// Topics starting with any of these bypass the log (default: `agent.control.` and
    /// `workflows`, which wire-contract §1 does not cache).
    pub uncached_prefixes: Vec<String>,
    /// Whether appends are pipelined ([`Pipelining::Auto`] by default).
    pub pipelining: Pipelining,
}

impl Default for CachingOptions {
    fn default() -> Self {
        Self {
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            uncached_prefixes: vec![AGENT_CONTROL_PREFIX.to_owned(), WORKFLOWS_TOPIC.to_owned()],
            pipelining: Pipelining::Auto,
        }
    }
}

impl CachingOptions {
    /// These options with another log key prefix.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// These options, also leaving topics that start with `prefix` out of the log.
    pub fn without_caching(mut self, prefix: impl Into<String>) -> Self {
        self.uncached_prefixes.push(prefix.into());
        self
    }

    /// These options with appends pipelined or not, whatever the cache prefers.
    pub fn with_pipelining(mut self, pipelining: Pipelining) -> Self {
        self.pipelining = pipelining;
        self
    }

    /// These options with appends pipelined ([`Pipelining::On`]).
    pub fn pipelined(self) -> Self {
        self.with_pipelining(Pipelining::On)
    }
}

/// Wraps any [`PubSub`] and a [`ServerCache`]: publishing appends the event to its topic's
/// log first (the index is allocated atomically by the append), then publishes it live
/// carrying that index. `local_only` events and uncached topics skip the log and get no
/// index. Observers use [`subscribe_from_offset`](Self::subscribe_from_offset) or
/// [`observe`](Self::observe); a plain [`subscribe`](PubSub::subscribe) is live only.
///
/// Pipelined ([`Pipelining`]), the logged events of a topic go through that topic's queue,
/// and a task appends everything queued in one batch before publishing each event: a run
/// pays one round trip per batch instead of one per event. [`publish_event`](Self::publish_event)
/// then waits for its own event's batch; a [`TopicSender`] does not wait until it flushes.
#[derive(Debug, Clone)]
pub struct CachingPubSub {
    inner: Arc<dyn PubSub>,
    log: RunLog,
    uncached_prefixes: Arc<[String]>,
    /// The per-topic queues, when pipelined.
    writers: Option<Writers>,
}

impl CachingPubSub {
    /// Logs every topic except `agent.control.*` and `workflows`, under `pubsub:`.
    pub fn new(inner: Arc<dyn PubSub>, cache: Arc<dyn ServerCache>) -> Self {
        Self::with_options(inner, cache, CachingOptions::default())
    }

    /// A caching pubsub with explicit options.
    pub fn with_options(
        inner: Arc<dyn PubSub>,
        cache: Arc<dyn ServerCache>,
        options: CachingOptions,
    ) -> Self {
        let pipelined = match options.pipelining {
            Pipelining::Auto => cache.prefers_batches(),
            Pipelining::On => true,
            Pipelining::Off => false,
        };
        let log = RunLog::new(cache, &options.key_prefix);
        Self {
            writers: pipelined.then(|| Writers::new(log.clone(), inner.clone())),
            inner,
            log,
            uncached_prefixes: options.uncached_prefixes.into(),
        }
    }

    /// Whether logged publishes go through per-topic queues (see [`Pipelining`]).
    pub fn is_pipelined(&self) -> bool {
        self.writers.is_some()
    }

    /// How many topics have writes queued or in flight (0 when idle or not pipelined):
    /// a topic's writer ends as soon as its queue is empty.
    pub fn busy_topics(&self) -> usize {
        self.writers.as_ref().map_or(0, Writers::busy_topics)
    }

    /// A non-waiting, ordered writer of `topic` for one producer, when this pubsub is
    /// pipelined and logs `topic` (`None` otherwise: publish with
    /// [`publish_event`](Self::publish_event)).
    pub fn sender(&self, topic: &str) -> Option<TopicSender> {
        let writers = self.writers.as_ref().filter(|_| self.caches(topic))?;
        Some(TopicSender::new(writers.clone(), topic.to_owned()))
    }

    /// Waits until every event queued on `topic` so far is written (at once when not
    /// pipelined). Fails when one of them could not be logged.
    pub async fn flush_topic(&self, topic: &str) -> Result<(), DurableError> {
        match &self.writers {
            Some(writers) => writers.flush_topic(topic).await,
            None => Ok(()),
        }
    }

    /// The transport underneath.
    pub fn inner(&self) -> &Arc<dyn PubSub> {
        &self.inner
    }

    /// The logs this pubsub writes.
    pub fn log(&self) -> &RunLog {
        &self.log
    }

    /// Whether events published on `topic` are logged.
    pub fn caches(&self, topic: &str) -> bool {
        !self
            .uncached_prefixes
            .iter()
            .any(|prefix| topic.starts_with(prefix.as_str()))
    }

    /// Publishes `event`, logging it first unless it bypasses the log; returns the index
    /// it was given (`None` for events that bypass the log). When logging fails nothing is
    /// published, so a live event always has its place in the log.
    pub async fn publish_event(
        &self,
        topic: &str,
        mut event: Event,
        options: PublishOptions,
    ) -> Result<Option<u64>, DurableError> {
        event.index = None;
        if !self.caches(topic) {
            self.inner.publish(topic, event, options).await?;
            return Ok(None);
        }
        if let Some(writers) = &self.writers {
            // Behind whatever is queued on the topic; `local_only` keeps its place too.
            let entry = (!options.local_only).then(|| self.log.entry(&event));
            let (tx, rx) = tokio::sync::oneshot::channel();
            writers
                .enqueue(topic, event, entry, options, Done::Wait(tx))
                .await?;
            return rx.await.unwrap_or_else(|_| {
                Err(DurableError::Backend {
                    source: "the topic's writer stopped".into(),
                    retryable: false,
                })
            });
        }
        if options.local_only {
            self.inner.publish(topic, event, options).await?;
            return Ok(None);
        }
        let index = self.log.append(topic, &event).await?;
        event.index = Some(index);
        self.inner.publish(topic, event, options).await?;
        Ok(Some(index))
    }

    /// Every event of `topic` from index `offset` (inclusive), then live events; waits for
    /// the topic's first event when nothing is logged yet.
    pub async fn subscribe_from_offset(
        &self,
        topic: &str,
        offset: u64,
    ) -> Result<ReplaySubscription, DurableError> {
        self.observe(topic, ObserveOptions::from_offset(offset).allow_missing())
            .await
    }

    /// Every event of `topic` from index 0, then live events.
    pub async fn subscribe_with_replay(
        &self,
        topic: &str,
    ) -> Result<ReplaySubscription, DurableError> {
        self.subscribe_from_offset(topic, 0).await
    }

    /// Observes `topic` as configured; by default an unknown, expired or cleared run fails
    /// at once with [`DurableError::UnknownRun`] and a terminal event ends the stream.
    pub async fn observe(
        &self,
        topic: &str,
        options: ObserveOptions,
    ) -> Result<ReplaySubscription, DurableError> {
        ReplaySubscription::open(self.inner.as_ref(), self.log.clone(), topic, options).await
    }

    /// The logged events of `topic` from index `from`.
    /// Events queued here are written first.
    pub async fn history(&self, topic: &str, from: u64) -> Result<Vec<Event>, DurableError> {
        self.flush_topic(topic).await?;
        self.log.read(topic, from, None).await
    }

    /// How many events of `topic` are logged (the index the next one will get); events
    /// queued here are written first.
    pub async fn history_len(&self, topic: &str) -> Result<u64, DurableError> {
        self.flush_topic(topic).await?;
        self.log.len(topic).await
    }
}

#[async_trait]
impl PubSub for CachingPubSub {
    async fn publish(
        &self,
        topic: &str,
        event: Event,
        options: PublishOptions,
    ) -> Result<(), PubSubError> {
        self.publish_event(topic, event, options)
            .await
            .map(|_| ())
            .map_err(DurableError::into_pubsub)
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, PubSubError> {
        self.inner.subscribe(topic).await
    }

    async fn subscribe_group(
        &self,
        topic: &str,
        group: &str,
    ) -> Result<GroupSubscription, PubSubError> {
        self.inner.subscribe_group(topic, group).await
    }

    /// Writes what is queued on every topic, then flushes the transport.
    async fn flush(&self) -> Result<(), PubSubError> {
        if let Some(writers) = &self.writers {
            writers
                .flush_all()
                .await
                .map_err(DurableError::into_pubsub)?;
        }
        self.inner.flush().await
    }

    /// Removes the topic's log (the index starts again at 0) and clears the transport;
    /// what is queued on it is written first, so that nothing lands after the clear.
    async fn clear_topic(&self, topic: &str) -> Result<(), PubSubError> {
        if let Err(error) = self.flush_topic(topic).await {
            tracing::warn!(topic, %error, "queued events failed before clearing their topic");
        }
        self.log
            .clear(topic)
            .await
            .map_err(DurableError::into_pubsub)?;
        self.inner.clear_topic(topic).await
    }

    fn lease_provider(&self) -> Option<Arc<dyn LeaseProvider>> {
        self.inner.lease_provider()
    }
}
