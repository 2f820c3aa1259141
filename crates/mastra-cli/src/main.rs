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
//! `--engine evented` runs the agent as queued steps (`mastra-workflows`): `--workers N` or
//! `--no-workers`, `--recovery auto|off`, `--lease-ttl-ms`, `--continuation-ms` (a worker's
//! turn on one run, 200 ms; 0 queues every step); on Redis, API-only and worker
//! processes form one deployment that survives the death of a worker. `--inngest` runs it
//! as an Inngest function served at `/api/inngest` (`mastra-inngest`).
//!
//! `mastra observe demo-agent <runId> [--offset N] [--url http://127.0.0.1:4111]` tails a
//! run (text, tool calls and results, the finish reason) through `mastra-client`'s
//! resumable stream, which observes again from the next index after a connection loss.

mod args;
mod demo;
mod observe;
mod serve;

use args::{Command, ObserveArgs, ServeArgs, USAGE};
use std::process::ExitCode;

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
        Command::Serve(options) => return start_server(options),
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
    let terminal = std::io::IsTerminal::is_terminal(&stdout);
    match runtime.block_on(observe::observe(options, &mut stdout, terminal)) {
        Ok(observe::Ending::Finished) => ExitCode::SUCCESS,
        Ok(observe::Ending::Failed) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("mastra: {error}");
            ExitCode::FAILURE
        }
    }
}

fn start_server(options: ServeArgs) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(serve::run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mastra: {error}");
            ExitCode::FAILURE
        }
    }
}
