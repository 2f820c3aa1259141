//! Per-step overhead of the evented engine against the local engine: runs of 1, 10 and 50
//! model steps (each but the last calls a no-op tool) with a no-delay model, in memory.
//! Prints ms per agent step (a model step plus its tool step: two queue messages on the
//! evented engine), in memory, then over Redis (127.0.0.1:6379 or `REDIS_URL`) when it
//! answers: first with the workflow store in memory, then with `RedisWorkflowStore` too
//! (everything the evented engine keeps is in Redis, as in a multi-instance deployment),
//! with the workers' default turn (a worker goes on with the run's next steps, saving
//! each) and then with continuation off (every step a trip through the queue). Each row
//! is the median of five rounds alternating the two engines.
//! Run with `cargo bench -p mastra-workflows --bench evented_steps`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use mastra_cache::ServerCache;
use mastra_core::tool::tool;
use mastra_core::{
    Agent, FinishReason, LanguageModel, ModelError, ModelPart, ModelRequest, ModelStream, Role,
    StreamOptions, ToolContext, ToolError, Usage,
};
use mastra_durable::{create_durable_agent, DurableAgent, LocalEngine};
use mastra_pubsub::{EventEmitterPubSub, PubSub};
use mastra_redis::{
    RedisConfig, RedisConnection, RedisPubSub, RedisServerCache, RedisWorkflowStore,
};
use mastra_workflows::{create_evented_agent, EventedEngine, WorkflowStore};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Calls the no-op tool until `steps` model steps are reached, then answers.
#[derive(Debug, Clone, Copy)]
struct LoopModel;

#[async_trait]
impl LanguageModel for LoopModel {
    fn provider(&self) -> &str {
        "bench"
    }

    fn model_id(&self) -> &str {
        "loop"
    }

    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        let round = request
            .messages
            .iter()
            .filter(|m| m.role == Role::Tool)
            .count();
        let steps: usize = request
            .messages
            .iter()
            .find(|m| m.role == Role::User)
            .and_then(|m| m.text().parse().ok())
            .unwrap_or(1);
        let usage = Usage::new(1, 1);
        let parts = if round + 1 < steps {
            vec![
                ModelPart::TextDelta("tick ".into()),
                ModelPart::ToolCall {
                    id: format!("c{round}"),
                    name: "noop".into(),
                    args: "{}".into(),
                },
                ModelPart::Finish {
                    reason: FinishReason::ToolCalls,
                    usage,
                },
            ]
        } else {
            vec![
                ModelPart::TextDelta("done".into()),
                ModelPart::Finish {
                    reason: FinishReason::Stop,
                    usage,
                },
            ]
        };
        Ok(stream::iter(parts.into_iter().map(Ok)).boxed())
    }
}

fn agent() -> Agent {
    let noop = tool(
        "noop",
        "does nothing",
        |_: Value, _: ToolContext| async move { Ok::<_, ToolError>(Value::Null) },
    );
    Agent::builder("bench", LoopModel).tool(noop).build()
}

async fn ms_per_step(durable: &DurableAgent, steps: usize, runs: usize) -> f64 {
    for _ in 0..3 {
        run(durable, steps).await;
    }
    let started = Instant::now();
    for _ in 0..runs {
        run(durable, steps).await;
    }
    started.elapsed().as_secs_f64() * 1000.0 / (runs * steps) as f64
}

async fn run(durable: &DurableAgent, steps: usize) {
    let output = durable
        .generate(steps.to_string(), StreamOptions::new())
        .await
        .unwrap_or_else(|e| panic!("run failed: {e}"));
    assert_eq!(output.steps.len(), steps);
}

/// How the evented engine under test is set up.
#[derive(Clone, Default)]
struct Evented {
    /// Its workflow store (in memory when unset).
    store: Option<Arc<dyn WorkflowStore>>,
    /// Its workers' turn (the engine's default when unset).
    continuation: Option<Duration>,
}

/// The local and the evented durable agent over one transport and one run-log cache.
async fn agents(
    pubsub: Arc<dyn PubSub>,
    cache: Option<Arc<dyn ServerCache>>,
    setup: Evented,
) -> (DurableAgent, DurableAgent, mastra_workflows::WorkerHandle) {
    let mut local = create_durable_agent(agent())
        .pubsub(pubsub.clone())
        .engine(Arc::new(LocalEngine::new()))
        .unlimited_steps();
    let mut engine = EventedEngine::builder(pubsub);
    if let Some(store) = setup.store {
        engine = engine.store(store);
    }
    if let Some(continuation) = setup.continuation {
        engine = engine.continuation(continuation);
    }
    let engine = engine.build();
    let mut evented = create_evented_agent(agent(), &engine).unlimited_steps();
    if let Some(cache) = cache {
        local = local.cache(cache.clone());
        evented = evented.cache(cache);
    }
    let workers = engine.start_workers(2).await.unwrap();
    (local.build(), evented.build(), workers)
}

/// Rounds of measurement per row; each alternates the two engines, and the row reports
/// their medians.
const ROUNDS: usize = 5;

async fn table(name: &str, local: &DurableAgent, evented: &DurableAgent) {
    println!("\n{name}\n");
    println!("| steps | local ms/step | evented ms/step | evented overhead ms/step |");
    println!("|---:|---:|---:|---:|");
    for (steps, runs) in [(1, 100), (10, 20), (50, 5)] {
        let (mut local_ms, mut evented_ms) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            local_ms.push(ms_per_step(local, steps, runs).await);
            evented_ms.push(ms_per_step(evented, steps, runs).await);
        }
        let (local_ms, evented_ms) = (median(local_ms), median(evented_ms));
        println!(
            "| {steps} | {local_ms:.3} | {evented_ms:.3} | {:.3} |",
            evented_ms - local_ms
        );
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Redis {
    pubsub: Arc<dyn PubSub>,
    cache: Arc<dyn ServerCache>,
    store: Arc<dyn WorkflowStore>,
}

async fn redis() -> Option<Redis> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let id = uuid::Uuid::new_v4();
    let config = RedisConfig::new(url)
        .with_key_prefix(format!("bench:evented:{id}:"))
        .with_channel_prefix(format!("bench:evented:{id}:ch:"))
        .with_default_ttl(std::time::Duration::from_secs(60));
    let connection = RedisConnection::connect(config).await.ok()?;
    let pubsub = RedisPubSub::new(connection.clone()).await.ok()?;
    Some(Redis {
        pubsub: Arc::new(pubsub),
        store: Arc::new(RedisWorkflowStore::new(connection.clone())),
        cache: Arc::new(RedisServerCache::new(connection)),
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let memory: Arc<dyn PubSub> = Arc::new(EventEmitterPubSub::new());
    let (local, evented, _workers) = agents(memory, None, Evented::default()).await;
    table("In memory", &local, &evented).await;
    let Some(redis) = redis().await else {
        println!("\nRedis: not reachable, skipped");
        return;
    };
    let tables = [
        (
            "Redis (queue, leases and run log; workflow store in memory)",
            Evented::default(),
        ),
        (
            "Redis (queue, leases, run log and workflow store)",
            Evented {
                store: Some(redis.store.clone()),
                continuation: None,
            },
        ),
        (
            "Redis (queue, leases, run log and workflow store), continuation off: every step \
             through the queue",
            Evented {
                store: Some(redis.store.clone()),
                continuation: Some(Duration::ZERO),
            },
        ),
    ];
    for (name, setup) in tables {
        let (pubsub, cache) = (redis.pubsub.clone(), Some(redis.cache.clone()));
        let (local, evented, workers) = agents(pubsub, cache, setup).await;
        table(name, &local, &evented).await;
        workers.stop().await;
    }
    // The run logs, leases and workflow records live under the bench's own prefix.
    redis.cache.clear().await.unwrap();
}
