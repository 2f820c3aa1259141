//! `mastra`: the command line of mastra-rs.
//!
//! `mastra serve` runs the HTTP server (`mastra-server`, upstream Mastra's `/api` routes)
//! with one durable agent, `demo-agent`, on the built-in demo model and the demo tools, all
//! in memory, so that `@mastra/client-js`, `curl` or a browser can try resumable streams
//! offline (`--redis-url URL` or `REDIS_URL` puts run logs and live events on Redis, so
//! several `mastra serve` processes serve each other's runs):
//!
//! ```sh
//! mastra serve --port 4111 &
//! curl -N localhost:4111/api/agents/demo-agent/stream -d '{"messages":"count to 5"}'
//! ```
//!
//! `mastra observe demo-agent <runId> [--offset N] [--url http://127.0.0.1:4111]` tails a
//! run (text, tool calls and results, the finish reason) through `mastra-client`'s
//! resumable stream, which observes again from the next index after a connection loss.

mod args;
mod observe;

use args::{Command, ObserveArgs, ServeArgs, USAGE};
use mastra_cache::ServerCache;
use mastra_core::{demo, Agent};
use mastra_durable::{create_durable_agent, Mastra};
use mastra_pubsub::PubSub;
use mastra_redis::{RedisConfig, RedisConnection, RedisPubSub, RedisServerCache};
use mastra_server::{serve_on, termination_signal, ServerConfig};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    let command = match args::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("mastra: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => println!("{USAGE}"),
        Command::Version => println!("mastra {}", env!("CARGO_PKG_VERSION")),
        Command::Serve(options) => return serve(options),
        Command::Observe(options) => return tail(&options),
    }
    ExitCode::SUCCESS
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            eprintln!("mastra: cannot start the runtime: {error}");
            None
        }
    }
}

fn tail(options: &ObserveArgs) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let mut stdout = std::io::stdout();
    match runtime.block_on(observe::observe(options, &mut stdout)) {
        Ok(observe::Ending::Finished) => ExitCode::SUCCESS,
        Ok(observe::Ending::Failed) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("mastra: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(options: ServeArgs) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mastra: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let redis_url = options.redis_url.clone().or_else(|| {
        std::env::var("REDIS_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
    });
    let backends = match &redis_url {
        Some(url) => Some(redis_backends(url).await?),
        None => None,
    };
    let storage = match backends.is_some() {
        true => "run logs and live events on Redis",
        false => "in memory",
    };
    let mastra = demo_mastra(Duration::from_millis(options.demo_delay_ms), backends)?;
    let config = ServerConfig::from_env();
    let listener = tokio::net::TcpListener::bind((options.host.as_str(), options.port)).await?;
    let auth = match config.requires_auth() {
        true => "bearer tokens from MASTRA_API_TOKENS",
        false => "no auth",
    };
    // The first line names the address (with `--port 0`, the one picked), for scripts.
    say(&format!(
        "mastra: listening on http://{}/api ({auth}; {storage})",
        listener.local_addr()?
    ));
    serve_on(listener, mastra, config, termination_signal()).await?;
    say("mastra: stopped");
    Ok(())
}

/// Prints a line; a closed stdout (its reader went away) is no reason to fail.
fn say(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// The pubsub and cache of a Redis deployment.
type Backends = (Arc<dyn PubSub>, Arc<dyn ServerCache>);

async fn redis_backends(url: &str) -> Result<Backends, Box<dyn std::error::Error>> {
    let connection = RedisConnection::connect(RedisConfig::new(url)).await?;
    Ok((
        Arc::new(RedisPubSub::new(connection.clone()).await?),
        Arc::new(RedisServerCache::new(connection)),
    ))
}

/// `demo-agent`: durable, the demo model and tools; in-memory pubsub, cache and run store,
/// or Redis's pubsub and cache when given (paused runs stay in this process's run store).
fn demo_mastra(
    delay: Duration,
    backends: Option<Backends>,
) -> Result<Mastra, mastra_durable::DurableError> {
    let agent = Agent::builder("demo-agent", demo::DemoModel::new().with_delay(delay))
        .name("Demo Agent")
        .instructions("You are a helpful assistant. Try: count to 5, weather in Paris, calculate 2 * (3 + 4).")
        .tools(demo::demo_tools())
        .build();
    let mut builder = Mastra::builder().durable_agent(create_durable_agent(agent));
    if let Some((pubsub, cache)) = backends {
        builder = builder.pubsub(pubsub).cache(cache);
    }
    builder.build()
}
