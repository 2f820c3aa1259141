//! Our side of `cargo xtask bench --peers`: the workloads that `bench/peers/mastra.mjs` runs
//! on upstream Mastra for Node, run on our durable agents, printed as one JSON object.
//!
//! ```text
//! peer_workloads [--backend memory|redis|redis-pubsub] [--redis-url URL]
//!                [--big 10000] [--small 50] [--sequential 1000] [--concurrent 200]
//! ```
//!
//! - W1: one durable run of `--big` text deltas (20 bytes each), read to the end;
//! - W2: that finished run observed from offset 0 and from the middle of its log;
//! - W3: `--sequential` runs of `--small` deltas one after the other, then `--concurrent`
//!   of them at once;
//! - the process's resident memory at rest and its peak after W1 and at the end.
//!
//! The model costs nothing (no delay), so the figures are the durable machinery's own cost.
//! `redis` keeps run logs on Redis and live events in process, as upstream's
//! `RedisServerCache` does; `redis-pubsub` also sends live events through Redis.

mod model;
mod workloads;

use std::process::ExitCode;
use workloads::{Backend, BoxError};

/// The command line.
#[derive(Debug)]
pub(crate) struct Args {
    backend: Backend,
    redis_url: String,
    big: usize,
    small: usize,
    sequential: usize,
    concurrent: usize,
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        backend: Backend::Memory,
        redis_url: std::env::var("REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned()),
        big: 10_000,
        small: 50,
        sequential: 1_000,
        concurrent: 200,
    };
    while let Some(flag) = argv.next() {
        let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let count = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: `{value}` is not a count"))
        };
        match flag.as_str() {
            "--backend" => {
                args.backend = Backend::parse(&value).ok_or_else(|| {
                    format!("--backend: `{value}` is not one of memory, redis, redis-pubsub")
                })?
            }
            "--redis-url" => args.redis_url = value.clone(),
            "--big" => args.big = count()?,
            "--small" => args.small = count()?,
            "--sequential" => args.sequential = count()?,
            "--concurrent" => args.concurrent = count()?,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("peer_workloads: {message}");
            return ExitCode::from(2);
        }
    };
    let result: Result<serde_json::Value, BoxError> = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(BoxError::from)
        .and_then(|runtime| runtime.block_on(workloads::run(&args)));
    match result {
        Ok(figures) => {
            println!("{figures}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("peer_workloads: {error}");
            ExitCode::FAILURE
        }
    }
}
