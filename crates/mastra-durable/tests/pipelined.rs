//! Pipelined run logs (write-behind with group commit) against a cache double that fails
//! on command: retried batches keep order, a batch whose reply was lost is not written
//! twice, a failure past the retry bound is sticky for its producer, idle topics leave no
//! writer behind, and a durable agent's checkpoint index is exact after every step.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mastra_cache::{CacheError, InMemoryServerCache, ServerCache, Ttl};
use mastra_core::{AbortSignal, Callbacks, StepProgress, StreamOptions};
use mastra_durable::engine::EngineRun;
use mastra_durable::{agent_stream_topic, create_durable_agent, CachingPubSub, DurableError};
use mastra_pubsub::{Event, EventEmitterPubSub, EventType, PubSub, PublishOptions};
use serde_json::{json, Value};
use support::*;

/// How a [`FlakyCache`]'s batch appends fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The next `n` batches fail before touching the log.
    Refuse,
    /// The next `n` batches land, then report a failure (a lost reply).
    LoseReply,
}

/// An in-memory cache that prefers batches (so `Pipelining::Auto` pipelines it) and fails
/// the next `failures` batch appends as told; `u32::MAX` fails them all.
#[derive(Debug)]
struct FlakyCache {
    inner: InMemoryServerCache,
    fault: Fault,
    failures: AtomicU32,
    batches: AtomicU32,
    delay: Duration,
}

impl FlakyCache {
    fn new(fault: Fault, failures: u32) -> Arc<Self> {
        Arc::new(Self {
            inner: InMemoryServerCache::new(),
            fault,
            failures: AtomicU32::new(failures),
            batches: AtomicU32::new(0),
            delay: Duration::ZERO,
        })
    }

    fn slow(delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            delay,
            ..Arc::into_inner(Self::new(Fault::Refuse, 0)).unwrap()
        })
    }

    fn take_failure(&self) -> bool {
        self.failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| match n {
                0 => None,
                u32::MAX => Some(u32::MAX),
                n => Some(n - 1),
            })
            .is_ok()
    }
}

#[async_trait]
impl ServerCache for FlakyCache {
    async fn get(&self, key: &str) -> Result<Option<Value>, CacheError> {
        self.inner.get(key).await
    }
    async fn set(&self, key: &str, value: Value, ttl: Ttl) -> Result<(), CacheError> {
        self.inner.set(key, value, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.inner.delete(key).await
    }
    async fn clear(&self) -> Result<(), CacheError> {
        self.inner.clear().await
    }
    async fn list_len(&self, key: &str) -> Result<u64, CacheError> {
        self.inner.list_len(key).await
    }
    async fn list_range(
        &self,
        key: &str,
        start: u64,
        end: Option<u64>,
    ) -> Result<Vec<String>, CacheError> {
        self.inner.list_range(key, start, end).await
    }
    async fn append_indexed(&self, key: &str, entry: &str) -> Result<u64, CacheError> {
        self.inner.append_indexed(key, entry).await
    }
    async fn append_indexed_batch(&self, key: &str, entries: &[String]) -> Result<u64, CacheError> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let failing = self.take_failure();
        if failing && self.fault == Fault::Refuse {
            return Err(CacheError::Unavailable("refused by the test".into()));
        }
        let first = self.inner.append_indexed_batch(key, entries).await?;
        match failing {
            true => Err(CacheError::Unavailable("reply lost by the test".into())),
            false => Ok(first),
        }
    }
    fn prefers_batches(&self) -> bool {
        true
    }
}

fn caching(cache: Arc<FlakyCache>) -> CachingPubSub {
    let caching = CachingPubSub::new(Arc::new(EventEmitterPubSub::new()), cache);
    assert!(
        caching.is_pipelined(),
        "Auto follows the cache's preference"
    );
    caching
}

fn chunk(n: u64) -> Event {
    Event::new(EventType::Chunk, "run", json!({ "n": n }))
}

/// The `n` of every logged event, in log order.
async fn logged_numbers(caching: &CachingPubSub, topic: &str) -> Vec<u64> {
    let log = caching.history(topic, 0).await.unwrap();
    for (position, event) in log.iter().enumerate() {
        assert_eq!(event.index, Some(position as u64));
    }
    log.iter().filter_map(|e| e.data["n"].as_u64()).collect()
}

#[tokio::test(start_paused = true)]
async fn retried_batches_keep_order_and_lose_nothing() {
    let caching = caching(FlakyCache::new(Fault::Refuse, 3));
    let topic = agent_stream_topic("retried");
    let sender = caching.sender(&topic).unwrap();
    for n in 0..50 {
        sender
            .send(chunk(n), PublishOptions::default())
            .await
            .unwrap();
    }
    assert_eq!(sender.flush().await.unwrap(), Some(49));
    assert_eq!(
        logged_numbers(&caching, &topic).await,
        (0..50).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn a_batch_whose_reply_was_lost_is_not_written_twice() {
    let caching = caching(FlakyCache::new(Fault::LoseReply, 2));
    let topic = agent_stream_topic("lost-reply");
    let sender = caching.sender(&topic).unwrap();
    for n in 0..20 {
        sender
            .send(chunk(n), PublishOptions::default())
            .await
            .unwrap();
    }
    let index = caching
        .publish_event(&topic, chunk(20), PublishOptions::default())
        .await
        .unwrap();
    assert_eq!(index, Some(20));
    assert_eq!(sender.flush().await.unwrap(), Some(19));
    assert_eq!(
        logged_numbers(&caching, &topic).await,
        (0..21).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn a_failure_past_the_retry_bound_is_sticky_and_nothing_is_published() {
    let cache = FlakyCache::new(Fault::Refuse, u32::MAX);
    let caching = caching(cache.clone());
    let topic = agent_stream_topic("down");
    let mut live = caching.inner().subscribe(&topic).await.unwrap();
    let sender = caching.sender(&topic).unwrap();
    sender
        .send(chunk(0), PublishOptions::default())
        .await
        .unwrap();
    let failed = sender.flush().await;
    match &failed {
        Err(DurableError::WriteFailed { source, .. }) => assert!(source.is_retryable()),
        other => panic!("expected WriteFailed, got {other:?}"),
    }
    assert!(
        !failed.unwrap_err().is_retryable(),
        "the producer must stop"
    );
    assert_eq!(
        cache.batches.load(Ordering::SeqCst),
        5,
        "5 attempts, then the error"
    );
    // Sticky: the sender refuses at once, and flushing reports it again.
    let refused = sender.send(chunk(1), PublishOptions::default()).await;
    assert!(matches!(refused, Err(DurableError::WriteFailed { .. })));
    assert!(sender.flush().await.is_err());
    assert_eq!(
        cache.batches.load(Ordering::SeqCst),
        5,
        "a refused send writes nothing"
    );
    // An awaited publish fails in its own batch; nothing ever went out live.
    let awaited = caching
        .publish_event(&topic, chunk(2), PublishOptions::default())
        .await;
    assert!(matches!(awaited, Err(DurableError::WriteFailed { .. })));
    let quiet = tokio::time::timeout(Duration::from_millis(50), live.next()).await;
    assert!(quiet.is_err(), "published without a log entry: {quiet:?}");
}

#[tokio::test]
async fn idle_topics_leave_no_writer_behind() {
    let caching = caching(FlakyCache::new(Fault::Refuse, 0));
    let mut senders = Vec::new();
    for run in 0..50 {
        let sender = caching
            .sender(&agent_stream_topic(&format!("idle-{run}")))
            .unwrap();
        for n in 0..20 {
            sender
                .send(chunk(n), PublishOptions::default())
                .await
                .unwrap();
        }
        senders.push(sender);
    }
    for sender in &senders {
        assert_eq!(sender.flush().await.unwrap(), Some(19));
    }
    within("every writer to end", async {
        while caching.busy_topics() > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    // A topic whose writer ended takes new events with a new one, in order.
    senders[0]
        .send(chunk(20), PublishOptions::default())
        .await
        .unwrap();
    assert_eq!(senders[0].flush().await.unwrap(), Some(20));
}

#[tokio::test]
async fn the_sink_index_is_exact_after_every_step() {
    // A slow log: a step that returned before its chunks were logged would show here.
    let cache = FlakyCache::slow(Duration::from_millis(2));
    let durable = create_durable_agent(demo_agent("checkpoints"))
        .cache(cache.clone())
        .build();
    let ctx = durable.context();
    let state = ctx.agent.new_run_state(
        vec![mastra_core::Message::user("weather in Paris")],
        &StreamOptions::new(),
    );
    let run_id = state.run_id.clone();
    let key = format!("pubsub:{}", agent_stream_topic(&run_id));
    let run = EngineRun {
        state,
        callbacks: Callbacks::default(),
        abort: AbortSignal::new(),
    };
    let mut executor = ctx.executor(run);
    let mut steps = 0;
    loop {
        let progress = executor.step().await.unwrap();
        steps += 1;
        // Give a writer that is still busy time to finish, then read the cache itself
        // (no flush of the channel): the index must name the log's last entry.
        tokio::time::sleep(Duration::from_millis(30)).await;
        let logged = cache.list_len(&key).await.unwrap();
        assert_eq!(
            executor.sink_mut().last_index(),
            Some(logged - 1),
            "step {steps}"
        );
        if !matches!(progress, StepProgress::Continue) {
            break;
        }
    }
    assert!(steps >= 2, "the demo's weather answer takes a tool step");
}

#[tokio::test]
async fn a_pipelined_pause_is_stored_before_readers_see_it_and_continues_in_order() {
    // A slow log makes a reader see the pause late, never early: the state comes first.
    let cache = FlakyCache::slow(Duration::from_millis(2));
    let runs = Counter::default();
    let model = mastra_core::scripted::ScriptedModel::new(vec![
        mastra_core::scripted::ScriptedResponse::new().tool_call("pay", json!({"amount": 5})),
        mastra_core::scripted::ScriptedResponse::text("Paid 5."),
    ]);
    let agent = mastra_core::Agent::builder("payer", model)
        .tool(pay_tool(runs.clone()))
        .build();
    let durable = create_durable_agent(agent).cache(cache).build();
    let mut stream = durable.stream("pay 5", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "tool-call-approval").await;
    // The reader sees the announcement: the paused state must be there already.
    assert!(durable.paused_state(&run_id).await.unwrap().is_some());
    let mut events = durable.observe(&run_id, 0).await.unwrap();
    events_until(&mut events, "suspended").await;
    let resumed = durable.approve_tool_call(&run_id, "call_0").await.unwrap();
    let chunks = read_chunks(resumed).await;
    assert_eq!(finish_of(&chunks).output.text.as_deref(), Some("Paid 5."));
    assert_eq!(runs.get(), 1);
    let log = log_of(&durable, &run_id).await;
    assert_contiguous(&log, 0);
    assert_eq!(terminal_count(&log), 1);
    let read = read_chunks(stream).await;
    assert_eq!(kinds(&read).last().map(String::as_str), Some("finish"));
}
