//! `mastra serve`: builds the deployment the options describe (backends, engine, workers),
//! serves it until SIGTERM or Ctrl-C, then lets the workers finish their current step.

use crate::args::{Engine, ServeArgs};
use crate::demo::{demo_agent, AGENT_ID};
use axum::Router;
use mastra_cache::ServerCache;
use mastra_durable::{create_durable_agent, Mastra, RunStore};
use mastra_inngest::{create_inngest_agent, Inngest, InngestEngine, Mode};
use mastra_pubsub::{EventEmitterPubSub, PubSub};
use mastra_redis::{
    RedisConfig, RedisConnection, RedisPubSub, RedisRunStore, RedisServerCache, RedisWorkflowStore,
};
use mastra_server::{router, termination_signal, ServerConfig};
use mastra_workflows::{create_evented_agent, EventedEngine, WorkerHandle, WorkflowStore};
use std::sync::Arc;
use std::time::Duration;

type BoxError = Box<dyn std::error::Error>;

/// The Inngest app id of `mastra serve` (composite function ids are `mastra-<fnId>`).
pub(crate) const INNGEST_APP_ID: &str = "mastra";

/// How long a stopping server waits for its workers' current steps.
const WORKER_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The shared parts of a Redis deployment.
struct RedisBackends {
    pubsub: Arc<dyn PubSub>,
    cache: Arc<dyn ServerCache>,
    /// Paused runs (approvals, resume data), answerable through any instance.
    runs: Arc<dyn RunStore>,
    store: Option<Arc<dyn WorkflowStore>>,
}

/// What `serve` built: the registry, the routes beyond `/api`'s agent routes, the running
/// workers, and a description for the first line.
struct Deployment {
    mastra: Mastra,
    extra_routes: Option<Router>,
    workers: Option<WorkerHandle>,
    description: String,
}

/// Serves until a termination signal.
pub(crate) async fn run(options: ServeArgs) -> Result<(), BoxError> {
    let redis_url = options.redis_url.clone().or_else(|| {
        std::env::var("REDIS_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
    });
    let backends = match &redis_url {
        Some(url) => Some(redis_backends(url, &options).await?),
        None => None,
    };
    let deployment = deploy(&options, backends).await?;
    let config = ServerConfig::from_env();
    let listener = tokio::net::TcpListener::bind((options.host.as_str(), options.port)).await?;
    let auth = match config.requires_auth() {
        true => "bearer tokens from MASTRA_API_TOKENS",
        false => "no auth",
    };
    // The first line names the address (with `--port 0`, the one picked), for scripts.
    say(&format!(
        "mastra: listening on http://{}/api ({auth}; {})",
        listener.local_addr()?,
        deployment.description
    ));
    let shutdown = config.shutdown().clone();
    let mut app = router(deployment.mastra, config);
    if let Some(extra) = deployment.extra_routes {
        app = app.merge(extra);
    }
    let stop = async move {
        tokio::select! {
            () = termination_signal() => shutdown.trigger(),
            () = shutdown.triggered() => {}
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    if let Some(workers) = deployment.workers {
        // Dropping the handle when the time is up aborts the workers; their steps'
        // messages go back to the queue for another instance.
        let _ = tokio::time::timeout(WORKER_STOP_TIMEOUT, workers.stop()).await;
    }
    say("mastra: stopped");
    Ok(())
}

/// Prints a line; a closed stdout (its reader went away) is no reason to fail.
pub(crate) fn say(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

fn redis_config(url: &str, options: &ServeArgs) -> RedisConfig {
    let mut config = RedisConfig::new(url);
    if let Some(prefix) = &options.redis_prefix {
        config = config
            .with_key_prefix(format!("{prefix}cache:"))
            .with_channel_prefix(format!("{prefix}pubsub:"));
    }
    let claim = options.claim_timeout_ms.unwrap_or(options.lease_ttl_ms);
    config.with_claim_timeout(Duration::from_millis(claim))
}

async fn redis_backends(url: &str, options: &ServeArgs) -> Result<RedisBackends, BoxError> {
    let config = redis_config(url, options);
    config.validate()?;
    let connection = RedisConnection::connect(config).await?;
    // Runs between steps, fenced by generation, shared by every instance on this Redis.
    let store = match options.engine {
        Engine::Evented => {
            Some(Arc::new(RedisWorkflowStore::new(connection.clone())) as Arc<dyn WorkflowStore>)
        }
        Engine::Local | Engine::Inngest => None,
    };
    Ok(RedisBackends {
        pubsub: Arc::new(RedisPubSub::new(connection.clone()).await?),
        runs: Arc::new(RedisRunStore::new(connection.clone())),
        cache: Arc::new(RedisServerCache::new(connection)),
        store,
    })
}

/// Builds `demo-agent` on the chosen engine, its registry and, for the evented engine,
/// this instance's workers.
async fn deploy(
    options: &ServeArgs,
    backends: Option<RedisBackends>,
) -> Result<Deployment, BoxError> {
    let agent = demo_agent(
        Duration::from_millis(options.demo_delay_ms),
        Duration::from_millis(options.demo_tool_delay_ms),
    );
    let on_redis = backends.is_some();
    let (pubsub, shared, store) = match backends {
        Some(RedisBackends {
            pubsub,
            cache,
            runs,
            store,
        }) => (pubsub, Some((cache, runs)), store),
        None => (
            Arc::new(EventEmitterPubSub::new()) as Arc<dyn PubSub>,
            None,
            None,
        ),
    };
    let mut builder = Mastra::builder().pubsub(pubsub.clone());
    if let Some((cache, runs)) = shared {
        builder = builder.cache(cache).run_store(runs);
    }
    let storage = match on_redis {
        true => "on Redis",
        false => "in memory",
    };
    match options.engine {
        Engine::Local => {
            let mastra = builder.durable_agent(create_durable_agent(agent)).build()?;
            let description = match on_redis {
                true => "run logs, live events and paused runs on Redis; local engine".to_owned(),
                false => "in memory; local engine".to_owned(),
            };
            Ok(Deployment {
                mastra,
                extra_routes: None,
                workers: None,
                description,
            })
        }
        Engine::Evented => {
            let mut engine = EventedEngine::builder(pubsub)
                .lease_ttl(Duration::from_millis(options.lease_ttl_ms))
                .continuation(Duration::from_millis(options.continuation_ms));
            if let Some(store) = store {
                engine = engine.store(store);
            }
            let engine = engine.build();
            let mastra = builder
                .durable_agent(create_evented_agent(agent, &engine))
                .build()?;
            if let Some(durable) = mastra.durable_agent(AGENT_ID) {
                engine.register(durable);
            }
            let workers = match options.workers {
                0 => None,
                count => Some(engine.start_workers(count).await?),
            };
            let mut description = format!("{storage}; evented engine, ");
            description.push_str(&match options.workers {
                0 => "no workers (API only)".to_owned(),
                1 => "1 worker".to_owned(),
                n => format!("{n} workers"),
            });
            // Only an instance with workers recovers: a message queued before any worker
            // joined the queue may be lost (Redis groups start at the newest entry), and a
            // recovery holds the deployment's recovery lease for a lease TTL.
            if options.recovery && workers.is_some() {
                let recovered = engine.recover_active_runs().await?;
                description.push_str(&format!(", {} runs recovered", recovered.len()));
            }
            Ok(Deployment {
                mastra,
                extra_routes: None,
                workers,
                description,
            })
        }
        Engine::Inngest => {
            let inngest = Inngest::from_env(INNGEST_APP_ID);
            let engine = InngestEngine::new(inngest.clone());
            let mastra = builder
                .durable_agent(create_inngest_agent(agent, &engine))
                .build()?;
            if let Some(durable) = mastra.durable_agent(AGENT_ID) {
                engine.register(durable);
            }
            let config = inngest.config();
            if config.mode == Mode::Cloud && config.signing_key.is_none() {
                eprintln!(
                    "mastra: INNGEST_SIGNING_KEY is not set: Inngest Cloud's calls cannot be \
                     verified; set it, or INNGEST_DEV=1 (or a dev server's URL) for a dev server"
                );
            }
            let description = format!(
                "{storage}; Inngest engine, {} mode, functions at {}",
                config.mode.as_str(),
                config.serve_path
            );
            let routes = mastra_inngest::serve(&inngest, vec![engine.function()]);
            Ok(Deployment {
                mastra,
                extra_routes: Some(routes),
                workers: None,
                description,
            })
        }
    }
}
