//! The evented agent over a real Redis (127.0.0.1:6379, or `REDIS_URL`): Streams consumer
//! groups for the queue, `RedisLeases` for fencing, `RedisServerCache` for the run log; each
//! instance has its own connections. The run store and workflow store are shared in memory,
//! except where a test puts the workflow store in Redis too (`RedisWorkflowStore`, which
//! takes and releases the run's lease in its own scripts). Unique key and channel prefixes
//! per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_core::{Agent, Usage};
use mastra_durable::{DurableAgent, InMemoryRunStore};
use mastra_pubsub::{EventType, PubSub};
use mastra_redis::{
    RedisConfig, RedisConnection, RedisPubSub, RedisServerCache, RedisWorkflowStore,
};
use mastra_workflows::{create_evented_agent, EventedEngine, InMemoryWorkflowStore, WorkflowStore};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use support::*;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(20);

/// Shared by the instances of one deployment: the Redis prefixes and the in-memory stores.
struct RedisDeployment {
    config: RedisConfig,
    runs: Arc<InMemoryRunStore>,
    store: Arc<InMemoryWorkflowStore>,
}

impl RedisDeployment {
    fn new() -> Self {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let id = uuid::Uuid::new_v4();
        let config = RedisConfig::new(url)
            .with_key_prefix(format!("test:workflows:{id}:"))
            .with_channel_prefix(format!("test:workflows:{id}:ch:"))
            .with_claim_timeout(Duration::from_millis(300));
        Self {
            config,
            runs: Arc::new(InMemoryRunStore::new()),
            store: Arc::new(InMemoryWorkflowStore::new()),
        }
    }

    /// One instance with its own Redis connections.
    async fn instance(&self, id: &str, agent: Agent) -> (EventedEngine, DurableAgent) {
        self.instance_on(id, agent, false).await
    }

    /// One instance with its own Redis connections; with `redis_store`, its workflow store
    /// is a `RedisWorkflowStore` on those connections (shared with the other instances
    /// through Redis), else the deployment's in-memory one.
    async fn instance_on(
        &self,
        id: &str,
        agent: Agent,
        redis_store: bool,
    ) -> (EventedEngine, DurableAgent) {
        let connection = RedisConnection::connect(self.config.clone())
            .await
            .expect("Redis must be running for these tests");
        let pubsub: Arc<dyn PubSub> = Arc::new(RedisPubSub::new(connection.clone()).await.unwrap());
        let store: Arc<dyn WorkflowStore> = match redis_store {
            true => Arc::new(RedisWorkflowStore::new(connection.clone())),
            false => self.store.clone(),
        };
        let engine = EventedEngine::builder(pubsub)
            .store(store)
            .lease_ttl(LEASE_TTL)
            .instance_id(id)
            .build();
        let durable = create_evented_agent(agent, &engine)
            .cache(Arc::new(RedisServerCache::new(connection)))
            .run_store(self.runs.clone())
            .build();
        engine.register(&durable);
        (engine, durable)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_started_without_workers_is_executed_by_a_worker_instance_over_redis() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = RedisDeployment::new();
    let (_api, starter) = deployment.instance("api", agent(&model, &lookups)).await;
    let (worker, _) = deployment.instance("worker", agent(&model, &lookups)).await;
    let _workers = worker.start_workers(1).await.unwrap();
    let on_finish = Counter::default();
    let stream = starter
        .stream("question", on_finish.on_finish())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    let output = timeout(WAIT, stream.output()).await.unwrap().unwrap();
    assert_eq!(output.text, FULL_TEXT);
    assert_eq!(output.usage, Usage::new(30, 15));
    assert_eq!(on_finish.settles_at(1).await, 1);
    let events = envelopes(&starter, &run_id).await;
    assert_eq!(count(&events, EventType::Finish), 1);
    starter.cleanup(&run_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_step_is_recovered_over_redis() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = RedisDeployment::new();
    let (engine_a, durable) = deployment.instance("a", agent(&model, &lookups)).await;
    let (engine_b, _) = deployment.instance("b", agent(&model, &lookups)).await;
    lookups.gate.stop_at(1); // inside the second tool call
    let workers_a = engine_a.start_workers(1).await.unwrap();
    let on_finish = Counter::default();
    let stream = durable
        .stream("question", on_finish.on_finish())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    timeout(WAIT, lookups.gate.reached.notified())
        .await
        .unwrap();
    let _workers_b = engine_b.start_workers(1).await.unwrap();
    workers_a.abort();

    let output = timeout(WAIT, stream.output()).await.unwrap().unwrap();
    assert_eq!(output.text, FULL_TEXT);
    assert_eq!(output.usage, Usage::new(30, 15));
    assert_eq!(on_finish.settles_at(1).await, 1);
    assert_eq!(model.gate.calls(), 3, "completed steps never ran again");
    let key = format!("{run_id}:call-1");
    assert_eq!(
        lookups.keys()[1..],
        [key.clone(), key],
        "the tool re-ran with its key"
    );
    let events = envelopes(&durable, &run_id).await;
    assert_eq!(count(&events, EventType::Finish), 1);
    assert_eq!(count(&events, EventType::OwnershipClaimed), 1);
    assert_eq!(client_text(&events), FULL_TEXT);
    durable.cleanup(&run_id).await.unwrap();
}

/// Three instances with two workers each share the queue, the leases and a Redis workflow
/// store (claim-and-load and save-and-release as one script each): concurrent runs take
/// every model step and every tool call exactly once, whichever worker takes each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_take_each_step_exactly_once_over_a_redis_store() {
    const RUNS: usize = 8;
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = RedisDeployment::new();
    let mut instances = Vec::new();
    for id in ["a", "b", "c"] {
        let (engine, durable) = deployment
            .instance_on(id, agent(&model, &lookups), true)
            .await;
        let workers = engine.start_workers(2).await.unwrap();
        instances.push((engine, durable, workers));
    }
    let durable = &instances[0].1;
    let mut streams = Vec::new();
    for n in 0..RUNS {
        let options = mastra_core::StreamOptions::new();
        streams.push(
            durable
                .stream(format!("question {n}"), options)
                .await
                .unwrap(),
        );
    }
    let mut run_ids = Vec::new();
    for stream in streams {
        run_ids.push(stream.run_id().to_owned());
        let output = timeout(WAIT, stream.output()).await.unwrap().unwrap();
        assert_eq!(output.text, FULL_TEXT);
        assert_eq!(output.usage, Usage::new(30, 15));
    }
    assert_eq!(model.gate.calls(), 3 * RUNS, "each model step once");
    let mut calls: HashMap<String, usize> = HashMap::new();
    for key in lookups.keys() {
        *calls.entry(key).or_default() += 1;
    }
    assert_eq!(calls.len(), 2 * RUNS, "two tool calls per run: {calls:?}");
    assert!(
        calls.values().all(|n| *n == 1),
        "a tool call ran twice: {calls:?}"
    );
    for run_id in &run_ids {
        let events = envelopes(durable, run_id).await;
        assert_eq!(count(&events, EventType::Finish), 1);
        assert_eq!(
            count(&events, EventType::OwnershipClaimed),
            0,
            "no takeover"
        );
        assert_eq!(client_text(&events), FULL_TEXT);
        durable.cleanup(run_id).await.unwrap();
    }
    assert!(instances[0].0.store().list().await.unwrap().is_empty());
    let pubsub = instances[0].0.pubsub().clone();
    for (_, _, workers) in instances {
        workers.stop().await;
    }
    // The leases' generation counters and the queue's stream, under this test's prefixes.
    let connection = RedisConnection::connect(deployment.config.clone())
        .await
        .unwrap();
    mastra_cache::ServerCache::clear(&RedisServerCache::new(connection))
        .await
        .unwrap();
    pubsub
        .clear_topic(mastra_durable::WORKFLOWS_TOPIC)
        .await
        .unwrap();
}
