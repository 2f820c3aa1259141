//! The command line: `mastra serve [--host H] [--port P] [--demo-delay-ms MS]`.

use std::fmt;

pub(crate) const USAGE: &str = "\
usage: mastra serve [--host 127.0.0.1] [--port 4111] [--demo-delay-ms 20]

Serves upstream Mastra's /api agent routes with one durable agent, `demo-agent`, on the
built-in demo model (offline) with the demo tools, in memory. Bearer tokens are read from
MASTRA_API_TOKENS (comma-separated); without any, the API is open. SIGTERM or Ctrl-C stops
the server gracefully.

options:
  --host HOST           address to listen on (default 127.0.0.1)
  --port PORT           port to listen on; 0 picks a free one (default 4111)
  --demo-delay-ms MS    pause of the demo model before each streamed part (default 20)
  -h, --help            this help
  -V, --version         the version";

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Serve(ServeArgs),
    Help,
    Version,
}

/// Options of `mastra serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServeArgs {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) demo_delay_ms: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 4111,
            demo_delay_ms: 20,
        }
    }
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
    match args.next().as_deref() {
        None | Some("-h" | "--help" | "help") => return Ok(Command::Help),
        Some("-V" | "--version") => return Ok(Command::Version),
        Some("serve") => {}
        Some(other) => return Err(ArgsError(format!("unknown command `{other}`"))),
    }
    let mut serve = ServeArgs::default();
    while let Some(arg) = args.next() {
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
        match name.as_str() {
            "--host" => serve.host = value()?,
            "--port" => serve.port = number(&name, &value()?)?,
            "--demo-delay-ms" => serve.demo_delay_ms = number(&name, &value()?)?,
            _ => return Err(ArgsError(format!("unknown option `{name}`"))),
        }
    }
    Ok(Command::Serve(serve))
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
            parse_str("serve --host 0.0.0.0 --port=8080 --demo-delay-ms 0").unwrap(),
            Command::Serve(ServeArgs {
                host: "0.0.0.0".into(),
                port: 8080,
                demo_delay_ms: 0,
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
        assert!(parse_str("serve --port 70000").is_err());
        assert!(parse_str("serve --colour red").is_err());
    }
}
