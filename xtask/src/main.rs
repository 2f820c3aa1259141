//! Project automation: `cargo xtask ci` runs the whole gate, `cargo xtask bench` the benchmarks.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let result = match task {
        "ci" => ci(),
        "bench" => bench(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <ci|bench>");
            eprintln!(
                "  ci     fmt --check, clippy -D warnings, every test (unit, integration, doc)"
            );
            eprintln!("  bench  run every benchmark (figures go to docs/benchmarks.md)");
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

fn bench(extra: &[String]) -> Result<(), String> {
    let mut args = vec!["bench", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)
}
