//! `cargo xtask bench --peers`: the same workloads on our durable agents
//! (`examples/peer_workloads`) and on upstream Mastra for Node (`bench/peers/mastra.mjs`,
//! `@mastra/core` pinned in `bench/peers/package.json`, installed into a temporary folder),
//! each in fresh processes, in memory and with Redis, repeated and interleaved; then
//! `redis-benchmark` as the ceiling. The table goes to the generated section of
//! `docs/benchmarks.md` (between its `xtask:peers` markers) and to standard output.

mod ceiling;
pub(crate) mod report;

use crate::machine::{cargo, now, output, run, source_state, target_dir, uptime, workspace_root};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

use report::replace_section;

pub(crate) struct Options {
    /// Fresh-process repetitions of every workload set.
    pub(crate) runs: usize,
    pub(crate) redis_url: String,
    /// Where the generated section goes (`docs/benchmarks.md`); `None` prints only.
    pub(crate) docs: Option<PathBuf>,
}

/// The figures of every repetition, per side and backend.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    pub(crate) ours_memory: Vec<Value>,
    pub(crate) ours_redis: Vec<Value>,
    pub(crate) ours_redis_pubsub: Vec<Value>,
    pub(crate) theirs_memory: Vec<Value>,
    pub(crate) theirs_redis: Vec<Value>,
}

/// What the section says about how the run was made.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) started: String,
    /// What was built: the commit, and whether the tree differed from it.
    pub(crate) source: String,
    pub(crate) uptime_before: String,
    pub(crate) uptime_after: String,
    pub(crate) minutes: f64,
    pub(crate) runs: usize,
    pub(crate) versions: Vec<(String, String)>,
    pub(crate) commands: Vec<String>,
    pub(crate) failures: Vec<String>,
}

fn version_of(node_modules: &Path, package: &str) -> String {
    let path = node_modules.join(package).join("package.json");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "not installed".to_owned())
}

/// Installs `bench/peers` into a folder under the system's temporary directory (reused
/// while `package.json` is unchanged) and returns it.
fn install_node_side() -> Result<PathBuf, String> {
    let source = workspace_root().join("bench/peers");
    let manifest = std::fs::read_to_string(source.join("package.json"))
        .map_err(|e| format!("bench/peers/package.json: {e}"))?;
    // FNV-1a of the manifest names the folder: a changed pin gets a fresh install.
    let hash = manifest.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let dir = std::env::temp_dir().join(format!("mastra-rs-peers-{hash:016x}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for file in ["package.json", "mastra.mjs"] {
        std::fs::copy(source.join(file), dir.join(file))
            .map_err(|e| format!("copy bench/peers/{file}: {e}"))?;
    }
    if !dir.join("node_modules/@mastra/core/package.json").exists() {
        run(
            "npm",
            &["install", "--no-audit", "--no-fund", "--loglevel=error"],
            Some(&dir),
        )?;
    }
    Ok(dir)
}

fn json_of(program: &str, args: &[&str], dir: Option<&Path>) -> Result<Value, String> {
    let out = output(program, args, dir)?;
    let line = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
    serde_json::from_str(line).map_err(|e| format!("{program}: no JSON result ({e}): {out}"))
}

pub(crate) fn bench(options: &Options) -> Result<(), String> {
    let clock = Instant::now();
    let started = now();
    let uptime_before = uptime();
    let source = source_state();
    let redis_version = output(
        "redis-cli",
        &["-u", &options.redis_url, "INFO", "server"],
        None,
    )
    .map_err(|e| format!("Redis at {} is needed: {e}", options.redis_url))?
    .lines()
    .find_map(|l| {
        l.strip_prefix("redis_version:")
            .map(|v| v.trim().to_owned())
    })
    .unwrap_or_else(|| "unknown".to_owned());
    let node = output("node", &["--version"], None)
        .map_err(|e| format!("Node is needed for the upstream side: {e}"))?;

    run(
        &cargo(),
        &["build", "--release", "-p", "peer_workloads"],
        Some(&workspace_root()),
    )?;
    let ours = target_dir()?.join("release/peer_workloads");
    let ours = ours.to_string_lossy().into_owned();
    let node_dir = install_node_side()?;
    let node_modules = node_dir.join("node_modules");
    let versions = vec![
        ("node".to_owned(), node.trim().to_owned()),
        (
            "@mastra/core".to_owned(),
            version_of(&node_modules, "@mastra/core"),
        ),
        (
            "@mastra/redis".to_owned(),
            version_of(&node_modules, "@mastra/redis"),
        ),
        ("ai".to_owned(), version_of(&node_modules, "ai")),
        (
            "redis (node-redis)".to_owned(),
            version_of(&node_modules, "redis"),
        ),
        ("Redis server".to_owned(), redis_version),
    ];

    let url = options.redis_url.as_str();
    let ours_cmd = |backend: &'static str| -> Vec<String> {
        vec![
            "--backend".into(),
            backend.into(),
            "--redis-url".into(),
            url.into(),
        ]
    };
    let mut figures = Figures::default();
    let mut failures = Vec::new();
    for round in 1..=options.runs {
        eprintln!("xtask: round {round} of {}", options.runs);
        for backend in ["memory", "redis"] {
            let theirs = json_of(
                "node",
                &["mastra.mjs", "--backend", backend, "--redis-url", url],
                Some(&node_dir),
            );
            let args = ours_cmd(backend);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mine = json_of(&ours, &args, None);
            let (ours_list, theirs_list) = match backend {
                "memory" => (&mut figures.ours_memory, &mut figures.theirs_memory),
                _ => (&mut figures.ours_redis, &mut figures.theirs_redis),
            };
            match mine {
                Ok(v) => ours_list.push(v),
                Err(e) => failures.push(format!("ours, {backend}, round {round}: {e}")),
            }
            match theirs {
                Ok(v) => theirs_list.push(v),
                Err(e) => failures.push(format!("upstream, {backend}, round {round}: {e}")),
            }
        }
        let args = ours_cmd("redis-pubsub");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match json_of(&ours, &args, None) {
            Ok(v) => figures.ours_redis_pubsub.push(v),
            Err(e) => failures.push(format!("ours, redis-pubsub, round {round}: {e}")),
        }
    }

    let prefix = format!("mastra-peers:xtask-{}:", std::process::id());
    let ceiling = ceiling::measure(url, &prefix);
    let uptime_after = uptime();
    let context = Context {
        started,
        source,
        uptime_before,
        uptime_after,
        minutes: clock.elapsed().as_secs_f64() / 60.0,
        runs: options.runs,
        versions,
        commands: vec![
            format!("cargo xtask bench --peers --runs {}", options.runs),
            format!("{ours} --backend memory|redis|redis-pubsub --redis-url {url}"),
            format!(
                "node mastra.mjs --backend memory|redis --redis-url {url}   (in {})",
                node_dir.display()
            ),
        ],
        failures,
    };
    let section = report::section(&figures, &ceiling, &context);
    println!("{section}");
    if let Some(docs) = &options.docs {
        let text = std::fs::read_to_string(docs).unwrap_or_default();
        std::fs::write(docs, replace_section(&text, &section))
            .map_err(|e| format!("{}: {e}", docs.display()))?;
        eprintln!("xtask: section written to {}", docs.display());
    }
    match context.failures.is_empty() {
        true => Ok(()),
        false => Err(format!("{} workload runs failed", context.failures.len())),
    }
}
