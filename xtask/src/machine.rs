//! Commands run by the tasks, and what the reports say about the machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs a command with its output going to the terminal; names it on failure.
pub(crate) fn run(program: &str, args: &[&str], dir: Option<&Path>) -> Result<(), String> {
    let shown = shown(program, args);
    eprintln!("==> {shown}");
    let mut command = Command::new(program);
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let status = command.status().map_err(|e| format!("{shown} ({e})"))?;
    match status.success() {
        true => Ok(()),
        false => Err(shown),
    }
}

/// Runs a command and returns its standard output (its standard error goes to the
/// terminal); fails when it cannot start or exits unsuccessfully.
pub(crate) fn output(program: &str, args: &[&str], dir: Option<&Path>) -> Result<String, String> {
    let shown = shown(program, args);
    let mut command = Command::new(program);
    command.args(args).stderr(Stdio::inherit());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let out = command.output().map_err(|e| format!("{shown} ({e})"))?;
    if !out.status.success() {
        return Err(format!("{shown} (exit {})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A command line as a reader would type it (arguments with spaces quoted).
pub(crate) fn shown(program: &str, args: &[&str]) -> String {
    let mut line = program.to_owned();
    for arg in args {
        line.push(' ');
        if arg.is_empty() || arg.contains([' ', '"', '\'', '\n', '$', '*']) {
            line.push('\'');
            line.push_str(&arg.replace('\n', " ").replace('\'', "'\\''"));
            line.push('\'');
        } else {
            line.push_str(arg);
        }
    }
    line
}

/// The cargo that runs this task.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The workspace's target directory, as cargo reports it.
pub(crate) fn target_dir() -> Result<PathBuf, String> {
    let meta = output(
        &cargo(),
        &["metadata", "--format-version", "1", "--no-deps"],
        Some(&workspace_root()),
    )?;
    let value: serde_json::Value =
        serde_json::from_str(&meta).map_err(|e| format!("cargo metadata: {e}"))?;
    value["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata: no target_directory".to_owned())
}

fn first_line(program: &str, args: &[&str]) -> String {
    output(program, args, None)
        .ok()
        .and_then(|s| s.lines().next().map(str::trim).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `uptime` now (the load average says how busy the machine was).
pub(crate) fn uptime() -> String {
    first_line("uptime", &[])
}

/// The UTC date and time now.
pub(crate) fn now() -> String {
    first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
}

/// CPU model, cores, memory, OS and rustc, in one line.
pub(crate) fn description() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown CPU")
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or_else(
            || "?".to_owned(),
            |kb| format!("{:.0}", kb / 1024.0 / 1024.0),
        );
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("PRETTY_NAME="))
        .map(|l| {
            l.trim_start_matches("PRETTY_NAME=")
                .trim_matches('"')
                .to_owned()
        })
        .unwrap_or_else(|| "Linux".to_owned());
    let rustc = first_line("rustc", &["-V"]);
    format!("{cpu}, {cores} cores, {mem_gib} GiB, {os}, {rustc}")
}

/// The commit measured, and how many source files differed from it (the benchmarks build
/// the working tree).
pub(crate) fn source_state() -> String {
    let root = workspace_root();
    let head = output("git", &["rev-parse", "--short", "HEAD"], Some(&root))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    let changed = output(
        "git",
        &[
            "status",
            "--porcelain",
            "--",
            "crates",
            "examples",
            "Cargo.toml",
            "Cargo.lock",
        ],
        Some(&root),
    )
    .map(|s| s.lines().count())
    .unwrap_or(0);
    match changed {
        0 => format!("commit {head}, clean"),
        n => format!("commit {head} plus uncommitted changes to {n} source paths (the working tree was built)"),
    }
}
