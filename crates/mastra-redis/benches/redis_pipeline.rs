//! Events per second through `CachingPubSub` over `RedisServerCache` + `RedisPubSub` to
//! one observer (100-byte and 1 KB payloads), the producer alone, replay of 10,000 events from Redis, and, as
//! the ceiling, `redis-benchmark` on the same server (one connection, then 50) and the
//! same script awaited one at a time through fred (the client's own ceiling).
//!
//! The `publish_to_observer` and `producer_only` rows take the path a durable agent takes
//! on Redis: pipelined appends (a `TopicSender` queues each event, one batch append per
//! round trip), with a flush at the end. The `*_awaited` rows await each event's own
//! append (`Pipelining::Off`, the path before pipelining), for comparison.
//!
//! Needs the Redis at `REDIS_URL` (default 127.0.0.1:6379) and `redis-benchmark` on the
//! `PATH`. Run with `cargo bench -p mastra-redis --bench redis_pipeline`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mastra_durable::{CachingOptions, CachingPubSub, ObserveOptions, Pipelining};
use mastra_pubsub::{Event, EventType, PubSub, PublishOptions};
use mastra_redis::{RedisConfig, RedisConnection, RedisPubSub, RedisServerCache};
use serde_json::json;

/// Events per measured iteration of the publish-to-observer benchmark.
const EVENTS: u64 = 2_000;
/// Events replayed per iteration of the replay benchmark.
const REPLAYED: u64 = 10_000;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn caching(pipelining: Pipelining) -> CachingPubSub {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let config = RedisConfig::new(redis_url())
        .with_key_prefix(format!("mastra-bench:{id}:cache:"))
        .with_channel_prefix(format!("mastra-bench:{id}:pubsub:"))
        .with_default_ttl(Duration::from_secs(120));
    let connection = RedisConnection::connect(config)
        .await
        .expect("the benchmark needs a running Redis");
    let pubsub = RedisPubSub::new(connection.clone()).await.unwrap();
    CachingPubSub::with_options(
        Arc::new(pubsub),
        Arc::new(RedisServerCache::new(connection)),
        CachingOptions::default().with_pipelining(pipelining),
    )
}

/// Hands `count` events and a `finish` over, as a durable run does: queued on a pipelined
/// pubsub (then flushed), awaited one by one otherwise.
async fn produce(caching: &CachingPubSub, topic: &str, run: &str, payload: usize, count: u64) {
    let finish = Event::new(EventType::Finish, run, json!({}));
    match caching.sender(topic) {
        Some(sender) => {
            for n in 0..count {
                sender
                    .send(event(run, payload, n), PublishOptions::default())
                    .await
                    .unwrap();
            }
            sender
                .send(finish, PublishOptions::default())
                .await
                .unwrap();
            sender.flush().await.unwrap();
        }
        None => {
            for n in 0..count {
                caching
                    .publish_event(topic, event(run, payload, n), PublishOptions::default())
                    .await
                    .unwrap();
            }
            caching
                .publish_event(topic, finish, PublishOptions::default())
                .await
                .unwrap();
        }
    }
}

fn event(run: &str, payload: usize, n: u64) -> Event {
    Event::new(
        EventType::Chunk,
        run,
        json!({ "n": n, "text": "x".repeat(payload) }),
    )
}

/// Publishes `count` events and a `finish` while one observer reads them all; the time
/// until the observer has the last one.
async fn publish_to_observer(caching: &CachingPubSub, payload: usize, count: u64) -> Duration {
    let run = uuid::Uuid::new_v4().to_string();
    let topic = format!("agent.stream.{run}");
    let mut observer = caching.subscribe_with_replay(&topic).await.unwrap();
    let started = Instant::now();
    let reader = tokio::spawn(async move {
        let mut seen = 0u64;
        while let Some(item) = observer.next().await {
            item.unwrap();
            seen += 1;
        }
        seen
    });
    produce(caching, &topic, &run, payload, count).await;
    assert_eq!(reader.await.unwrap(), count + 1);
    let elapsed = started.elapsed();
    caching.clear_topic(&topic).await.unwrap();
    elapsed
}

fn pipeline(c: &mut Criterion) {
    pipeline_with(c, Pipelining::On, "redis_pipeline/publish_to_observer");
}

fn pipeline_awaited(c: &mut Criterion) {
    pipeline_with(
        c,
        Pipelining::Off,
        "redis_pipeline/publish_to_observer_awaited",
    );
}

fn pipeline_with(c: &mut Criterion, pipelining: Pipelining, name: &str) {
    let runtime = runtime();
    let caching = runtime.block_on(caching(pipelining));
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(EVENTS + 1));
    for payload in [100usize, 1_024] {
        group.bench_with_input(
            BenchmarkId::from_parameter(payload),
            &payload,
            |b, &payload| {
                b.to_async(&runtime).iter_custom(|iterations| {
                    let caching = caching.clone();
                    async move {
                        let mut total = Duration::ZERO;
                        for _ in 0..iterations {
                            total += publish_to_observer(&caching, payload, EVENTS).await;
                        }
                        total
                    }
                });
            },
        );
    }
    group.finish();
}

/// The producer side alone (pipelined: queued sends, then a flush), with no observer, to
/// separate the producer's cost from the observer's.
fn producer(c: &mut Criterion) {
    producer_with(c, Pipelining::On, "redis_pipeline/producer_only");
}

/// The same, each event awaiting its own append (log append, then queued publish).
fn producer_awaited(c: &mut Criterion) {
    producer_with(c, Pipelining::Off, "redis_pipeline/producer_only_awaited");
}

fn producer_with(c: &mut Criterion, pipelining: Pipelining, name: &str) {
    let runtime = runtime();
    let caching = runtime.block_on(caching(pipelining));
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("100", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let caching = caching.clone();
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let run = uuid::Uuid::new_v4().to_string();
                    let topic = format!("agent.stream.{run}");
                    let started = Instant::now();
                    produce(&caching, &topic, &run, 100, EVENTS - 1).await;
                    caching.inner().flush().await.unwrap();
                    total += started.elapsed();
                    caching.clear_topic(&topic).await.unwrap();
                }
                total
            }
        });
    });
    group.finish();
}

fn replay(c: &mut Criterion) {
    let runtime = runtime();
    let caching = runtime.block_on(caching(Pipelining::Auto));
    let run = uuid::Uuid::new_v4().to_string();
    let topic = format!("agent.stream.{run}");
    runtime.block_on(produce(&caching, &topic, &run, 20, REPLAYED - 1));
    let mut group = c.benchmark_group("redis_pipeline/replay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(REPLAYED));
    group.bench_function("10000_events_from_offset_0", |b| {
        b.to_async(&runtime).iter(|| {
            let caching = caching.clone();
            let topic = topic.clone();
            async move {
                let mut observer = caching
                    .observe(&topic, ObserveOptions::from_offset(0))
                    .await
                    .unwrap();
                let mut seen = 0u64;
                while let Some(item) = observer.next().await {
                    item.unwrap();
                    seen += 1;
                }
                assert_eq!(seen, REPLAYED);
            }
        });
    });
    group.finish();
    runtime.block_on(caching.clear_topic(&topic)).unwrap();
}

/// The client's own ceiling: the `redis-benchmark` EVAL script (LLEN + RPUSH), awaited
/// one at a time through one fred client on this runtime, as the producer awaits its
/// appends. The gap between this and `redis-benchmark` is the client and runtime; the gap
/// between this and `producer_only` is ours.
fn fred_ceiling(c: &mut Criterion) {
    use fred::interfaces::{ClientLike, KeysInterface};
    use fred::types::scripts::Script;

    let runtime = runtime();
    let key = format!("mastra-bench:{}:fred-eval", uuid::Uuid::new_v4().simple());
    let client = runtime.block_on(async {
        let config = fred::types::config::Config::from_url(&redis_url()).unwrap();
        let client = fred::types::Builder::from_config(config).build().unwrap();
        client.init().await.unwrap();
        client
    });
    let script = Script::from_lua(
        "local n = redis.call('LLEN', KEYS[1]) redis.call('RPUSH', KEYS[1], ARGV[1]) return n",
    );
    runtime.block_on(script.load(&client)).unwrap();
    let mut group = c.benchmark_group("redis_pipeline/fred_eval_ceiling");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("1_connection", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let (client, script, key) = (client.clone(), script.clone(), key.clone());
            async move {
                let started = Instant::now();
                for _ in 0..iterations * EVENTS {
                    let _: u64 = script
                        .evalsha_with_reload(
                            &client,
                            key.as_str(),
                            "0123456789012345678901234567890123456789",
                        )
                        .await
                        .unwrap();
                }
                let elapsed = started.elapsed();
                let _: () = client.del(key.as_str()).await.unwrap();
                elapsed
            }
        });
    });
    group.finish();
    runtime.block_on(client.quit()).unwrap();
}

/// The raw ceiling: `redis-benchmark` against the same server, printed with its command.
fn ceiling(_: &mut Criterion) {
    let url = redis_url();
    let address = url.trim_start_matches("redis://");
    let (host, port) = address.split_once(':').unwrap_or((address, "6379"));
    let port = port.trim_end_matches('/');
    for clients in ["1", "50"] {
        let args = [
            "-h",
            host,
            "-p",
            port,
            "-q",
            "-n",
            "100000",
            "-P",
            "1",
            "-c",
            clients,
            "-t",
            "rpush,lpush,publish",
        ];
        let eval = [
            "-h",
            host,
            "-p",
            port,
            "-q",
            "-n",
            "100000",
            "-P",
            "1",
            "-c",
            clients,
            "EVAL",
            "local n = redis.call('LLEN', KEYS[1]) redis.call('RPUSH', KEYS[1], ARGV[1]) return n",
            "1",
            "mastra-bench:eval",
            "0123456789012345678901234567890123456789",
        ];
        for args in [&args[..], &eval[..]] {
            println!("redis-benchmark {}", args.join(" "));
            match Command::new("redis-benchmark").args(args).output() {
                Ok(output) => {
                    for line in String::from_utf8_lossy(&output.stdout).split(['\r', '\n']) {
                        if line.contains("requests per second") {
                            println!("  {}", line.trim());
                        }
                    }
                }
                Err(error) => println!("  redis-benchmark not runnable: {error}"),
            }
        }
    }
    let _ = Command::new("redis-cli")
        .args(["-h", host, "-p", port, "DEL", "mastra-bench:eval", "mylist"])
        .output();
}

criterion_group!(
    benches,
    ceiling,
    fred_ceiling,
    producer,
    producer_awaited,
    pipeline,
    pipeline_awaited,
    replay
);
criterion_main!(benches);
