//! The command line: `mastra serve [--host H] [--port P] [--demo-delay-ms MS]` and
//! `mastra observe <agentId> <runId> [--offset N] [--url URL]`.

use std::fmt;

pub(crate) const USAGE: &str = "\
usage: mastra serve [--host 127.0.0.1] [--port 4111] [--demo-delay-ms 20] [--redis-url URL]
       mastra observe <agentId> <runId> [--offset 0] [--url http://127.0.0.1:4111]

Serves upstream Mastra's /api agent routes with one durable agent, `demo-agent`, on the
built-in demo model (offline) with the demo tools, in memory, or with its run logs and live
events on Redis when --redis-url (or REDIS_URL) is given. Bearer tokens are read from
MASTRA_API_TOKENS (comma-separated); without any, the API is open. SIGTERM or Ctrl-C stops
the server gracefully.

serve options:
  --host HOST           address to listen on (default 127.0.0.1)
  --port PORT           port to listen on; 0 picks a free one (default 4111)
  --demo-delay-ms MS    pause of the demo model before each streamed part (default 20)
  --redis-url URL       redis:// or rediss:// URL for the run logs and live events
                        (default: REDIS_URL if set, else in memory)
  -h, --help            this help
  -V, --version         the version

`mastra observe` tails a run of a server's agent from an event index: text as it streams,
tool calls and results, and the finish reason. When the connection is lost it observes
again from the next index by itself, so nothing is shown twice or skipped. The bearer token
comes from MASTRA_API_TOKEN, if set. It exits with 0 when the run finished, 1 otherwise.

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

/// Options of `mastra serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServeArgs {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) demo_delay_ms: u64,
    /// Redis for run logs and live events (`--redis-url`; `REDIS_URL` is read at start-up).
    pub(crate) redis_url: Option<String>,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 4111,
            demo_delay_ms: 20,
            redis_url: None,
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
            (false, "--redis-url") => serve.redis_url = Some(value()?),
            (true, "--offset") => offset = number(&name, &value()?)?,
            (true, "--url") => url = value()?,
            _ => return Err(ArgsError(format!("unknown option `{name}`"))),
        }
    }
    if !observe {
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
            })
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
