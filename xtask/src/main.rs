//! Project automation: `cargo xtask ci` runs the whole gate, `cargo xtask bench` the
//! benchmarks, `cargo xtask bench --peers` ours against upstream Mastra for Node.

mod machine;
mod peers;
mod stats;
mod steps;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <ci|bench> [options]
  ci                 fmt --check, clippy -D warnings, every test (unit, integration, doc)
  bench              run every benchmark of the workspace; report in bench/results.md and
                     in the generated `xtask:steps` section of docs/benchmarks.md
    --quick          criterion's quick mode (short, indicative figures)
    --only TEXT      only benchmarks whose `package/name` contains TEXT (repeatable)
    --out FILE       write the report there instead
  bench --peers      the same workloads on our durable agents and on upstream Mastra for
                     Node (bench/peers), in memory and with Redis, plus redis-benchmark;
                     rewrites the generated section of docs/benchmarks.md
    --runs N         fresh-process repetitions per side and backend (default 3)
    --quick          one repetition
    --redis-url URL  (default: REDIS_URL or redis://127.0.0.1:6379)
    --no-docs        print the section only";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let result = match task {
        "ci" => ci(),
        "bench" => bench(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(step) => {
            eprintln!("xtask: `{step}` failed");
            ExitCode::FAILURE
        }
    }
}

/// Runs one cargo command, echoing it first, and names it on failure.
fn cargo(args: &[&str]) -> Result<(), String> {
    let shown = format!("cargo {}", args.join(" "));
    eprintln!("==> {shown}");
    let status = Command::new(env!("CARGO"))
        .args(args)
        .status()
        .map_err(|e| format!("{shown} ({e})"))?;
    if status.success() {
        Ok(())
    } else {
        Err(shown)
    }
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&["test", "--workspace", "--all-features", "--no-fail-fast"])
}

/// The parsed options of `cargo xtask bench`.
#[derive(Debug, PartialEq)]
struct BenchArgs {
    peers: bool,
    quick: bool,
    runs: Option<usize>,
    only: Vec<String>,
    out: Option<PathBuf>,
    redis_url: Option<String>,
    docs: bool,
}

fn parse_bench(args: &[String]) -> Result<BenchArgs, String> {
    let mut parsed = BenchArgs {
        peers: false,
        quick: false,
        runs: None,
        only: Vec::new(),
        out: None,
        redis_url: None,
        docs: true,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--peers" => parsed.peers = true,
            "--quick" => parsed.quick = true,
            "--no-docs" => parsed.docs = false,
            "--runs" => {
                let n = value("--runs")?;
                let n = n
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("--runs: `{n}` is not a positive count"))?;
                parsed.runs = Some(n);
            }
            "--only" => parsed.only.push(value("--only")?),
            "--out" => parsed.out = Some(PathBuf::from(value("--out")?)),
            "--redis-url" => parsed.redis_url = Some(value("--redis-url")?),
            other => return Err(format!("unknown option `{other}`\n{USAGE}")),
        }
    }
    Ok(parsed)
}

fn bench(args: &[String]) -> Result<(), String> {
    let args = parse_bench(args)?;
    let root = machine::workspace_root();
    if args.peers {
        let runs = match (args.runs, args.quick) {
            (Some(n), _) => n,
            (None, true) => 1,
            (None, false) => 3,
        };
        let redis_url = args
            .redis_url
            .or_else(|| std::env::var("REDIS_URL").ok())
            .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
        return peers::bench(&peers::Options {
            runs,
            redis_url,
            docs: args.docs.then(|| root.join("docs/benchmarks.md")),
        });
    }
    steps::bench(&steps::Options {
        quick: args.quick,
        out: args.out.unwrap_or_else(|| root.join("bench/results.md")),
        only: args.only,
        docs: args.docs.then(|| root.join("docs/benchmarks.md")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn bench_options_parse() {
        let parsed = parse_bench(&strings(&["--peers", "--runs", "5", "--no-docs"]));
        assert_eq!(
            parsed,
            Ok(BenchArgs {
                peers: true,
                quick: false,
                runs: Some(5),
                only: vec![],
                out: None,
                redis_url: None,
                docs: false,
            })
        );
        let quick = parse_bench(&strings(&["--quick", "--only", "durable"]));
        assert_eq!(
            quick.map(|a| (a.quick, a.only)),
            Ok((true, vec!["durable".to_owned()]))
        );
    }

    #[test]
    fn bad_bench_options_are_refused_with_a_reason() {
        let zero = parse_bench(&strings(&["--runs", "0"]));
        assert_eq!(zero, Err("--runs: `0` is not a positive count".to_owned()));
        let missing = parse_bench(&strings(&["--out"]));
        assert_eq!(missing, Err("--out needs a value".to_owned()));
        let unknown = parse_bench(&strings(&["--fast"])).err().unwrap_or_default();
        assert!(unknown.starts_with("unknown option `--fast`"), "{unknown}");
    }
}
