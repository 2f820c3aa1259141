//! The command line: `mastra serve [--host H] [--port P] [--redis-url URL] [--engine E] ..`
//! and `mastra observe <agentId> <runId> [--offset N] [--url URL]` (see [`USAGE`]).

use std::fmt;

pub(crate) const USAGE: &str = "\
usage: mastra serve [--host 127.0.0.1] [--port 4111] [--demo-delay-ms 20] [--redis-url URL]
                    [--engine local|evented|inngest] [--workers 2 | --no-workers]
                    [--recovery auto|off] [--lease-ttl-ms 30000] [--continuation-ms 200]
                    [--inngest]
       mastra observe <agentId> <runId> [--offset 0] [--url http://127.0.0.1:4111]

Serves upstream Mastra's /api agent routes with one durable agent, `demo-agent`, on the
built-in demo model (offline) with the demo tools, in memory, or on Redis when --redis-url
(or REDIS_URL) is given. Bearer tokens are read from MASTRA_API_TOKENS (comma-separated);
without any, the API is open. SIGTERM or Ctrl-C stops the server gracefully.

With --engine evented, agent steps (a model call, or the tool calls it asked for) are taken
by workers from a work queue (a worker goes on with a run's next steps for a short turn,
then queues the next one), and the run's state is stored after each step: a run whose
worker dies is continued by another worker from its last completed step. With
--redis-url the queue, leases, run logs and run stores are on Redis, so several
`mastra serve` processes form one deployment: API-only ones (--no-workers) queue runs,
workers execute them. With --inngest, `demo-agent` runs as an Inngest function served at
/api/inngest (configured by the INNGEST_* variables, e.g. INNGEST_DEV=1).

serve options:
  --host HOST             address to listen on (default 127.0.0.1)
  --port PORT             port to listen on; 0 picks a free one (default 4111)
  --demo-delay-ms MS      pause of the demo model before each streamed part (default 20)
  --demo-tool-delay-ms MS pause of each demo tool call before it answers (default 0)
  --redis-url URL         redis:// or rediss:// URL (default: REDIS_URL if set, else in memory)
  --redis-prefix PREFIX   prefix of every Redis key and channel (default mastra:)
  --engine ENGINE         how runs execute: local (default: in the process that starts
                          them), evented (queued steps) or inngest (same as --inngest)
  --workers N             evented: step workers in this process (default 2)
  --no-workers            evented: API only; runs are queued and executed elsewhere
  --recovery auto|off     evented: at start-up, an instance with workers re-queues the runs
                          left without a worker (one instance at a time; default auto)
  --lease-ttl-ms MS       evented: how long a worker's claim on a run lasts unrenewed; a
                          crashed worker's run is taken over after it (default 30000)
  --continuation-ms MS    evented: how long a worker goes on with a run's next steps itself
                          (saving each) before it queues the next one; 0 queues every
                          step (default 200)
  --claim-timeout-ms MS   evented on Redis: a step message unacknowledged this long goes to
                          another worker (default: the lease TTL)
  --inngest               run `demo-agent` on Inngest and serve /api/inngest
  -h, --help              this help
  -V, --version           the version

`mastra observe` tails a run of a server's agent from an event index: text as it streams,
tool calls and results, and the finish reason. When the connection is lost it observes
again from the next index by itself, so nothing is shown twice or skipped; when another
worker takes over a crashed run (`ownership-claimed`), it prints the re-run step's text
again on a fresh line after a `[re-running step: ...]` note. The bearer token comes from
MASTRA_API_TOKEN, if set. It exits with 0 when the run finished, 1 otherwise.

observe options:
  --offset N            the first event index to show (default 0)
  --url URL             the server (default http://127.0.0.1:4111)";

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Serve(ServeArgs),
    Observe(ObserveArgs),
    Help,
    Version,
}

/// Where `demo-agent`'s runs execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// In the process that starts them (`mastra-durable`'s local engine).
    Local,
    /// As queued steps taken by workers (`mastra-workflows`).
    Evented,
    /// As an Inngest function (`mastra-inngest`), served at `/api/inngest`.
    Inngest,
}

/// Options of `mastra serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServeArgs {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) demo_delay_ms: u64,
    pub(crate) demo_tool_delay_ms: u64,
    /// Redis for run logs and live events (`--redis-url`; `REDIS_URL` is read at start-up).
    pub(crate) redis_url: Option<String>,
    /// Prefix of Redis keys (`<prefix>cache:`) and channels (`<prefix>pubsub:`).
    pub(crate) redis_prefix: Option<String>,
    pub(crate) engine: Engine,
    /// Evented: step workers in this process (0: API only).
    pub(crate) workers: usize,
    /// Evented: re-queue orphaned runs at start-up.
    pub(crate) recovery: bool,
    pub(crate) lease_ttl_ms: u64,
    /// Evented: a worker's turn on one run.
    pub(crate) continuation_ms: u64,
    /// Redis consumer groups' claim timeout; the lease TTL when unset.
    pub(crate) claim_timeout_ms: Option<u64>,
}

/// The default number of step workers of an evented instance.
pub(crate) const DEFAULT_WORKERS: usize = 2;

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 4111,
            demo_delay_ms: 20,
            demo_tool_delay_ms: 0,
            redis_url: None,
            redis_prefix: None,
            engine: Engine::Local,
            workers: DEFAULT_WORKERS,
            recovery: true,
            lease_ttl_ms: 30_000,
            continuation_ms: 200,
            claim_timeout_ms: None,
        }
    }
}

/// Options of `mastra observe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObserveArgs {
    pub(crate) agent_id: String,
    pub(crate) run_id: String,
    pub(crate) offset: u64,
    pub(crate) url: String,
}

/// A command line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArgsError(pub(crate) String);

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Parses the arguments after the program name.
pub(crate) fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, ArgsError> {
    let mut args = args.into_iter();
    let observe = match args.next().as_deref() {
        None | Some("-h" | "--help" | "help") => return Ok(Command::Help),
        Some("-V" | "--version") => return Ok(Command::Version),
        Some("serve") => false,
        Some("observe") => true,
        Some(other) => return Err(ArgsError(format!("unknown command `{other}`"))),
    };
    let mut serve = ServeArgs::default();
    let mut engine = None;
    let mut inngest = false;
    // Options that only mean something on the evented engine, as given.
    let mut evented_only = Vec::new();
    let mut positional = Vec::new();
    let mut offset = 0;
    let mut url = "http://127.0.0.1:4111".to_owned();
    while let Some(arg) = args.next() {
        if !arg.starts_with('-') && observe {
            positional.push(arg);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        if matches!(name.as_str(), "-h" | "--help") {
            return Ok(Command::Help);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| ArgsError(format!("{name} needs a value")))
        };
        match (observe, name.as_str()) {
            (false, "--host") => serve.host = value()?,
            (false, "--port") => serve.port = number(&name, &value()?)?,
            (false, "--demo-delay-ms") => serve.demo_delay_ms = number(&name, &value()?)?,
            (false, "--demo-tool-delay-ms") => {
                serve.demo_tool_delay_ms = number(&name, &value()?)?;
            }
            (false, "--redis-url") => serve.redis_url = Some(value()?),
            (false, "--redis-prefix") => serve.redis_prefix = Some(value()?),
            (false, "--engine") => {
                engine = Some(match value()?.as_str() {
                    "local" => Engine::Local,
                    "evented" => Engine::Evented,
                    "inngest" => Engine::Inngest,
                    other => {
                        return Err(ArgsError(format!(
                            "--engine: `{other}` is not one of local, evented, inngest"
                        )))
                    }
                });
            }
            (false, "--inngest") => inngest = true,
            (false, "--workers") => {
                serve.workers = number(&name, &value()?)?;
                evented_only.push(name);
            }
            (false, "--no-workers") => {
                serve.workers = 0;
                evented_only.push(name);
            }
            (false, "--recovery") => {
                serve.recovery = match value()?.as_str() {
                    "auto" => true,
                    "off" => false,
                    other => {
                        return Err(ArgsError(format!(
                            "--recovery: `{other}` is not one of auto, off"
                        )))
                    }
                };
                evented_only.push(name);
            }
            (false, "--lease-ttl-ms") => {
                serve.lease_ttl_ms = number(&name, &value()?)?;
                if serve.lease_ttl_ms == 0 {
                    return Err(ArgsError("--lease-ttl-ms must be at least 1".into()));
                }
                evented_only.push(name);
            }
            (false, "--continuation-ms") => {
                serve.continuation_ms = number(&name, &value()?)?;
                evented_only.push(name);
            }
            (false, "--claim-timeout-ms") => {
                serve.claim_timeout_ms = Some(number(&name, &value()?)?);
                evented_only.push(name);
            }
            (true, "--offset") => offset = number(&name, &value()?)?,
            (true, "--url") => url = value()?,
            _ => return Err(ArgsError(format!("unknown option `{name}`"))),
        }
    }
    if !observe {
        serve.engine = match (engine, inngest) {
            (None | Some(Engine::Inngest), true) => Engine::Inngest,
            (Some(other), true) => {
                return Err(ArgsError(format!(
                    "--inngest runs demo-agent on Inngest; it does not go with --engine {}",
                    other.name()
                )))
            }
            (engine, false) => engine.unwrap_or(Engine::Local),
        };
        if let Some(option) = evented_only.first() {
            if serve.engine != Engine::Evented {
                return Err(ArgsError(format!("{option} needs --engine evented")));
            }
        }
        return Ok(Command::Serve(serve));
    }
    let [agent_id, run_id]: [String; 2] = positional
        .try_into()
        .map_err(|_| ArgsError("observe needs <agentId> <runId>".into()))?;
    Ok(Command::Observe(ObserveArgs {
        agent_id,
        run_id,
        offset,
        url,
    }))
}

impl Engine {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Engine::Local => "local",
            Engine::Evented => "evented",
            Engine::Inngest => "inngest",
        }
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ArgsError> {
    value
        .parse()
        .map_err(|_| ArgsError(format!("{name}: `{value}` is not a valid number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command, ArgsError> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn serve_takes_its_options_in_both_spellings() {
        assert_eq!(
            parse_str("serve").unwrap(),
            Command::Serve(ServeArgs::default())
        );
        assert_eq!(
            parse_str(
                "serve --host 0.0.0.0 --port=8080 --demo-delay-ms 0 --redis-url redis://r:6379"
            )
            .unwrap(),
            Command::Serve(ServeArgs {
                host: "0.0.0.0".into(),
                port: 8080,
                demo_delay_ms: 0,
                redis_url: Some("redis://r:6379".into()),
                ..ServeArgs::default()
            })
        );
    }

    #[test]
    fn the_default_turn_is_the_engines() {
        let default = mastra_workflows::DEFAULT_CONTINUATION.as_millis();
        assert_eq!(u128::from(ServeArgs::default().continuation_ms), default);
        assert!(USAGE.contains(&format!("step (default {default})")));
    }

    #[test]
    fn serve_takes_the_engine_options() {
        let Command::Serve(evented) = parse_str(
            "serve --engine evented --workers 3 --recovery off --lease-ttl-ms 800 \
             --claim-timeout-ms 400 --redis-prefix t:1: --demo-tool-delay-ms 9 \
             --continuation-ms 0",
        )
        .unwrap() else {
            panic!("not serve");
        };
        assert_eq!(evented.engine, Engine::Evented);
        assert_eq!(evented.workers, 3);
        assert!(!evented.recovery);
        assert_eq!(evented.lease_ttl_ms, 800);
        assert_eq!(evented.claim_timeout_ms, Some(400));
        assert_eq!(evented.continuation_ms, 0);
        assert_eq!(evented.redis_prefix.as_deref(), Some("t:1:"));
        assert_eq!(evented.demo_tool_delay_ms, 9);
        let Command::Serve(api) = parse_str("serve --engine=evented --no-workers").unwrap() else {
            panic!("not serve");
        };
        assert_eq!((api.workers, api.recovery), (0, true));
        let Command::Serve(inngest) = parse_str("serve --inngest").unwrap() else {
            panic!("not serve");
        };
        assert_eq!(inngest.engine, Engine::Inngest);
        assert_eq!(
            parse_str("serve --engine inngest").unwrap(),
            Command::Serve(inngest)
        );
    }

    #[test]
    fn engine_options_need_their_engine() {
        for line in [
            "serve --workers 2",
            "serve --no-workers",
            "serve --engine local --recovery off",
            "serve --inngest --lease-ttl-ms 100",
            "serve --engine evented --inngest",
            "serve --engine fast",
            "serve --engine evented --recovery sometimes",
            "serve --engine evented --lease-ttl-ms 0",
            "serve --engine evented --workers many",
        ] {
            let error = parse_str(line).unwrap_err();
            assert!(!error.0.is_empty(), "{line}");
        }
        assert_eq!(
            parse_str("serve --no-workers").unwrap_err().0,
            "--no-workers needs --engine evented"
        );
    }

    #[test]
    fn help_version_and_mistakes() {
        assert_eq!(parse_str("").unwrap(), Command::Help);
        assert_eq!(parse_str("serve --help").unwrap(), Command::Help);
        assert_eq!(parse_str("--version").unwrap(), Command::Version);
        assert!(parse_str("launch").is_err());
        assert!(parse_str("serve --port").is_err());
        assert!(parse_str("serve --redis-url").is_err());
        assert!(parse_str("serve --port 70000").is_err());
        assert!(parse_str("serve --colour red").is_err());
        assert!(parse_str("observe demo-agent").is_err());
        assert!(parse_str("observe a b c").is_err());
        assert!(parse_str("observe a b --port 1").is_err());
        assert!(parse_str("observe a b --offset -1").is_err());
    }

    #[test]
    fn observe_takes_an_agent_a_run_and_options() {
        assert_eq!(
            parse_str("observe demo-agent run-1").unwrap(),
            Command::Observe(ObserveArgs {
                agent_id: "demo-agent".into(),
                run_id: "run-1".into(),
                offset: 0,
                url: "http://127.0.0.1:4111".into(),
            })
        );
        assert_eq!(
            parse_str("observe --offset=7 demo-agent run-1 --url http://h:1").unwrap(),
            Command::Observe(ObserveArgs {
                agent_id: "demo-agent".into(),
                run_id: "run-1".into(),
                offset: 7,
                url: "http://h:1".into(),
            })
        );
    }
}
