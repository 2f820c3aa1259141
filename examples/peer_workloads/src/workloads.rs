//! The workloads of `cargo xtask bench --peers`, on our durable agents. `bench/peers/mastra.mjs`
//! runs the same ones on upstream's, and prints the same JSON fields.

use crate::model::DeltaModel;
use crate::Args;
use futures::StreamExt;
use mastra_cache::ServerCache;
use mastra_core::{Agent, StreamOptions};
use mastra_durable::{create_durable_agent, DurableAgent, DurableStream};
use mastra_pubsub::{EventEmitterPubSub, PubSub};
use mastra_redis::{RedisConfig, RedisConnection, RedisPubSub, RedisServerCache};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where the run logs and live events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// In-process pubsub and cache (the defaults).
    Memory,
    /// Run logs on Redis, live events in process: what upstream's `RedisServerCache` does.
    Redis,
    /// Run logs on Redis and live events through Redis pub/sub too (our multi-process set-up).
    RedisPubSub,
}

impl Backend {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "memory" => Some(Self::Memory),
            "redis" => Some(Self::Redis),
            "redis-pubsub" => Some(Self::RedisPubSub),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
            Self::RedisPubSub => "redis-pubsub",
        }
    }
}

/// The backends the durable agents of one process share.
struct Backends {
    pubsub: Arc<dyn PubSub>,
    cache: Option<Arc<dyn ServerCache>>,
    /// This process's own prefix of Redis keys.
    key_prefix: Option<String>,
}

async fn backends(args: &Args) -> Result<Backends, BoxError> {
    if args.backend == Backend::Memory {
        return Ok(Backends {
            pubsub: Arc::new(EventEmitterPubSub::new()),
            cache: None,
            key_prefix: None,
        });
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let key_prefix = format!("mastra-peers:{id}:");
    let config = RedisConfig::new(args.redis_url.clone())
        .with_key_prefix(key_prefix.clone())
        .with_channel_prefix(format!("mastra-peers:{id}:pubsub:"))
        // A crashed run leaves nothing behind for long.
        .with_default_ttl(Duration::from_secs(300));
    let connection = RedisConnection::connect(config).await?;
    let pubsub: Arc<dyn PubSub> = match args.backend {
        Backend::RedisPubSub => Arc::new(RedisPubSub::new(connection.clone()).await?),
        _ => Arc::new(EventEmitterPubSub::new()),
    };
    Ok(Backends {
        pubsub,
        cache: Some(Arc::new(RedisServerCache::new(connection))),
        key_prefix: Some(key_prefix),
    })
}

fn durable_agent(deltas: usize, backends: &Backends) -> DurableAgent {
    let agent = Agent::builder("bench", DeltaModel::new(deltas))
        .instructions("You are a benchmark.")
        .build();
    let builder = create_durable_agent(agent).pubsub(backends.pubsub.clone());
    match &backends.cache {
        Some(cache) => builder.cache(cache.clone()).build(),
        None => builder.build(),
    }
}

/// Reads a stream to its end; the time of its first chunk is stored in `first`.
async fn drain(
    mut stream: DurableStream,
    first: Option<(&Instant, &mut f64)>,
) -> Result<u64, BoxError> {
    let mut first = first;
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        chunk?;
        if chunks == 0 {
            if let Some((started, at)) = first.take() {
                *at = ms(started.elapsed());
            }
        }
        chunks += 1;
    }
    Ok(chunks)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Peak and current resident memory of this process in MB, from `/proc/self/status`
/// (`VmHWM`, `VmRSS`); `None` where that file does not exist.
fn rss_mb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub(crate) async fn run(args: &Args) -> Result<Value, BoxError> {
    let mut out = Map::new();
    out.insert("peer".into(), json!("mastra-rs"));
    out.insert("backend".into(), json!(args.backend.name()));
    out.insert("rss_start_mb".into(), json!(rss_mb("VmRSS:")));
    let backends = backends(args).await?;
    out.insert("rss_at_rest_mb".into(), json!(rss_mb("VmRSS:")));
    out.insert("key_prefix".into(), json!(backends.key_prefix));

    // W1: one run of `big` deltas, read to the end.
    let big = durable_agent(args.big, &backends);
    let started = Instant::now();
    let mut first = 0.0;
    let stream = big.stream("go", StreamOptions::new()).await?;
    let run_id = stream.run_id().to_owned();
    let chunks = drain(stream, Some((&started, &mut first))).await?;
    let w1 = ms(started.elapsed());
    out.insert(
        "w1".into(),
        json!({ "ms": w1, "chunks": chunks, "chunks_per_s": chunks as f64 / w1 * 1000.0,
                "first_chunk_ms": first, "peak_rss_mb": rss_mb("VmHWM:") }),
    );

    // W2: the finished run, observed from offset 0 and from the middle of its log.
    let logged = big.context().channel.log_len(&run_id).await?;
    for (name, offset) in [("w2_offset0", 0), ("w2_middle", logged / 2)] {
        let started = Instant::now();
        let stream = big.observe_chunks(&run_id, offset).await?;
        let chunks = drain(stream, None).await?;
        out.insert(
            name.into(),
            json!({ "ms": ms(started.elapsed()), "offset": offset, "chunks": chunks }),
        );
    }

    // W3: sequential, then concurrent runs of `small` deltas.
    let small = durable_agent(args.small, &backends);
    let mut per_run = Vec::with_capacity(args.sequential);
    let mut chunks = 0;
    let started = Instant::now();
    for _ in 0..args.sequential {
        let one = Instant::now();
        chunks += drain(small.stream("go", StreamOptions::new()).await?, None).await?;
        per_run.push(ms(one.elapsed()));
    }
    let total = ms(started.elapsed());
    per_run.sort_by(f64::total_cmp);
    out.insert(
        "w3_sequential".into(),
        json!({ "ms": total, "runs": args.sequential,
                "runs_per_s": args.sequential as f64 / total * 1000.0,
                "p50_run_ms": per_run.get(per_run.len() / 2), "chunks": chunks,
                "peak_rss_mb": rss_mb("VmHWM:") }),
    );

    let started = Instant::now();
    let tasks: Vec<_> = (0..args.concurrent)
        .map(|_| {
            let agent = small.clone();
            tokio::spawn(async move {
                let stream = agent.stream("go", StreamOptions::new()).await?;
                drain(stream, None).await
            })
        })
        .collect();
    let mut chunks = 0;
    for task in tasks {
        chunks += task.await??;
    }
    let total = ms(started.elapsed());
    out.insert(
        "w3_concurrent".into(),
        json!({ "ms": total, "runs": args.concurrent,
                "runs_per_s": args.concurrent as f64 / total * 1000.0, "chunks": chunks }),
    );
    out.insert("peak_rss_mb".into(), json!(rss_mb("VmHWM:")));

    if let Some(cache) = &backends.cache {
        cache.clear().await?; // every key under this process's own prefix
    }
    Ok(Value::Object(out))
}
