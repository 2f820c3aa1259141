//! `cargo xtask bench`: every benchmark of the workspace (steps 1-7), one after the other,
//! and a report of the machine, the date, each command and its figures.
//!
//! Benchmarks are found with `cargo metadata` (every `[[bench]]` target), so a new one is
//! run without touching this file. Criterion benchmarks are summarized from the samples
//! criterion stores under `target/criterion` (time per iteration: median, minimum and maximum
//! over the samples, each sample being one repeated measurement); the others print their own
//! tables (they repeat their rounds themselves), which the report keeps as printed.

use crate::machine::{
    cargo, description, now, output, shown, source_state, target_dir, uptime, workspace_root,
};
use crate::stats::{duration_ns, number, Spread};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// One `[[bench]]` target.
#[derive(Debug)]
struct Bench {
    package: String,
    name: String,
    criterion: bool,
}

/// What one benchmark run gave.
#[derive(Debug)]
struct Outcome {
    command: String,
    ok: bool,
    stdout: String,
    criterion: Vec<CriterionResult>,
}

#[derive(Debug)]
struct CriterionResult {
    id: String,
    /// Nanoseconds per iteration over the samples.
    time: Spread,
    /// Elements or bytes per iteration, when the benchmark declares them.
    throughput: Option<(f64, &'static str)>,
}

pub(crate) struct Options {
    pub(crate) quick: bool,
    pub(crate) out: PathBuf,
    /// Only benchmarks whose `package/name` contains one of these.
    pub(crate) only: Vec<String>,
    /// The benchmarks document whose `xtask:steps` section gets the report too.
    pub(crate) docs: Option<PathBuf>,
}

const DOCS_BEGIN: &str = "<!-- BEGIN xtask:steps -->";
const DOCS_END: &str = "<!-- END xtask:steps -->";

/// The report as a section of the benchmarks document: every heading one level down.
fn docs_section(report: &str) -> String {
    report
        .lines()
        .map(|line| match line.starts_with('#') {
            true => format!("#{line}"),
            false => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn benches() -> Result<Vec<Bench>, String> {
    let meta = output(
        &cargo(),
        &["metadata", "--format-version", "1", "--no-deps"],
        Some(&workspace_root()),
    )?;
    let meta: Value = serde_json::from_str(&meta).map_err(|e| format!("cargo metadata: {e}"))?;
    let mut found = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        for target in package["targets"].as_array().into_iter().flatten() {
            let is_bench = target["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bench"));
            if !is_bench {
                continue;
            }
            let source = target["src_path"].as_str().unwrap_or_default();
            let text = std::fs::read_to_string(source).unwrap_or_default();
            found.push(Bench {
                package: package["name"].as_str().unwrap_or_default().to_owned(),
                name: target["name"].as_str().unwrap_or_default().to_owned(),
                criterion: text.contains("criterion_main!"),
            });
        }
    }
    found.sort_by(|a, b| (&a.package, &a.name).cmp(&(&b.package, &b.name)));
    Ok(found)
}

/// Runs a command, echoing its standard output to the terminal as it comes, and returns it.
fn tee(program: &str, args: &[&str], dir: &Path) -> (bool, String) {
    let mut child = match Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => return (false, format!("could not start: {error}")),
    };
    let mut captured = String::new();
    if let Some(stdout) = child.stdout.take() {
        let mut terminal = std::io::stdout();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = writeln!(terminal, "{line}");
            captured.push_str(&line);
            captured.push('\n');
        }
    }
    let ok = child.wait().is_ok_and(|status| status.success());
    (ok, captured)
}

/// Every `new/benchmark.json` under `dir` written since `since`.
fn fresh_results(dir: &Path, since: SystemTime, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            fresh_results(&path, since, found);
        } else if path.ends_with("new/benchmark.json") {
            let modified = entry.metadata().and_then(|m| m.modified());
            if modified.is_ok_and(|m| m >= since) {
                found.push(path);
            }
        }
    }
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn criterion_result(benchmark_json: &Path) -> Option<CriterionResult> {
    let meta = read_json(benchmark_json)?;
    let sample = read_json(&benchmark_json.with_file_name("sample.json"))?;
    let iters = sample["iters"].as_array()?;
    let times = sample["times"].as_array()?;
    let per_iteration: Vec<f64> = iters
        .iter()
        .zip(times)
        .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()?))
        .collect();
    let throughput = match &meta["throughput"] {
        Value::Object(map) => map.iter().find_map(|(kind, n)| {
            let unit = match kind.as_str() {
                "Elements" => "elements/s",
                "Bytes" | "BytesDecimal" => "bytes/s",
                _ => return None,
            };
            Some((n.as_f64()?, unit))
        }),
        _ => None,
    };
    Some(CriterionResult {
        id: meta["full_id"].as_str()?.to_owned(),
        time: Spread::of(&per_iteration)?,
        throughput,
    })
}

fn run_one(bench: &Bench, quick: bool, criterion_dir: &Path) -> Outcome {
    let mut args = vec!["bench", "-p", &bench.package, "--bench", &bench.name];
    if bench.criterion {
        args.extend(["--", "--noplot"]);
        if quick {
            // Criterion's own `--quick` stops after as few as two samples; ten short ones
            // still give a median, a minimum and a maximum. Groups that set their own
            // sample size or time keep them.
            args.extend([
                "--sample-size",
                "10",
                "--warm-up-time",
                "1",
                "--measurement-time",
                "2",
            ]);
        }
    }
    let command = shown("cargo", &args);
    eprintln!("==> {command}");
    let started = SystemTime::now();
    let (ok, stdout) = tee(&cargo(), &args, &workspace_root());
    let mut fresh = Vec::new();
    if bench.criterion {
        fresh_results(criterion_dir, started, &mut fresh);
    }
    // Only what this benchmark printed: another `cargo bench` running at the same time
    // writes under the same directory.
    let mut criterion: Vec<_> = fresh
        .iter()
        .filter_map(|p| criterion_result(p))
        .filter(|r| printed_id(&stdout, &r.id))
        .collect();
    criterion.sort_by(|a, b| a.id.cmp(&b.id));
    Outcome {
        command,
        ok,
        stdout,
        criterion,
    }
}

/// `load`: `uptime` before and after, then what was built ([`source_state`]).
fn report(
    options: &Options,
    runs: &[(Bench, Outcome)],
    started: &str,
    load: [String; 3],
) -> String {
    let mut md = String::new();
    md.push_str("# Benchmark run (`cargo xtask bench`)\n\n");
    md.push_str("Generated by `cargo xtask bench");
    if options.quick {
        md.push_str(" --quick");
    }
    md.push_str("`; every figure below comes from that one run.\n\n");
    if options.quick {
        md.push_str(
            "Quick mode: criterion benchmarks take 10 samples after a 1 s warm-up over about \
             2 s (`--sample-size 10 --warm-up-time 1 --measurement-time 2`, unless a group \
             sets its own); the figures are indicative only.\n\n",
        );
    }
    md.push_str(&format!("- Machine: {}\n", description()));
    md.push_str(&format!("- Source: {}\n", load[2]));
    md.push_str(&format!("- Started: {started}; finished: {}\n", now()));
    md.push_str(&format!("- `uptime` before: `{}`\n", load[0]));
    md.push_str(&format!("- `uptime` after: `{}`\n", load[1]));
    md.push_str(
        "- Criterion figures: time per iteration over criterion's samples (each sample is one \
         repeated measurement of many iterations): median [min, max], and the throughput at \
         the median. Other benchmarks print their own tables, kept as printed.\n",
    );
    for (bench, outcome) in runs {
        md.push_str(&format!("\n## {} / {}\n\n", bench.package, bench.name));
        md.push_str(&format!("Command: `{}`", outcome.command));
        if !outcome.ok {
            md.push_str(" -- **failed** (see its output below)");
        }
        md.push_str("\n\n");
        if !outcome.criterion.is_empty() {
            md.push_str("| benchmark | time per iteration: median [min, max] | samples | throughput at the median |\n");
            md.push_str("|---|---|---:|---|\n");
            for r in &outcome.criterion {
                let t = r.time;
                let throughput = r.throughput.map_or_else(
                    || "-".to_owned(),
                    |(n, unit)| format!("{} {unit}", number(n / (t.median / 1e9))),
                );
                md.push_str(&format!(
                    "| {} | {} [{}, {}] | {} | {} |\n",
                    r.id,
                    duration_ns(t.median),
                    duration_ns(t.min),
                    duration_ns(t.max),
                    t.runs,
                    throughput
                ));
            }
        }
        // Criterion's own text repeats the table; other benchmarks' output is their result.
        let printed = match bench.criterion {
            true => {
                let ids: Vec<&str> = outcome.criterion.iter().map(|r| r.id.as_str()).collect();
                non_criterion_lines(&outcome.stdout, &ids)
            }
            false => outcome.stdout.trim().to_owned(),
        };
        if !printed.is_empty() {
            md.push_str("\n```text\n");
            md.push_str(&printed);
            md.push_str("\n```\n");
        }
    }
    md
}

/// Whether criterion's output names the benchmark `id` (alone on its line, or before its
/// `time:` figures).
fn printed_id(stdout: &str, id: &str) -> bool {
    stdout.lines().any(|line| {
        let line = line.trim();
        line == id
            || line
                .strip_prefix(id)
                .is_some_and(|rest| rest.trim_start().starts_with("time:"))
    })
}

/// What a criterion benchmark printed besides criterion's own report lines (e.g. the
/// `redis-benchmark` ceiling of `redis_pipeline`).
fn non_criterion_lines(stdout: &str, ids: &[&str]) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut in_criterion_block = false;
    for line in stdout.lines() {
        let trimmed = line.trim_start();
        let criterion_line = line.contains("time:   [")
            || trimmed.starts_with("thrpt:")
            || trimmed.starts_with("change:")
            || trimmed.starts_with("Found ")
            || trimmed.contains("high mild")
            || trimmed.contains("high severe")
            || trimmed.contains("low mild")
            || trimmed.contains("low severe")
            || trimmed.starts_with("No change in performance")
            || trimmed.starts_with("Change within noise")
            || trimmed.starts_with("Performance has")
            || trimmed.starts_with("Benchmarking ")
            || ids.contains(&line.trim());
        if criterion_line {
            in_criterion_block = true;
            continue;
        }
        if in_criterion_block && line.starts_with(' ') && !line.trim().is_empty() {
            continue;
        }
        in_criterion_block = false;
        if line.trim().is_empty() && kept.last().is_none_or(|l| l.trim().is_empty()) {
            continue;
        }
        kept.push(line);
    }
    kept.join("\n").trim().to_owned()
}

pub(crate) fn bench(options: &Options) -> Result<(), String> {
    let all = benches()?;
    let selected: Vec<Bench> = all
        .into_iter()
        .filter(|b| {
            options.only.is_empty()
                || options
                    .only
                    .iter()
                    .any(|o| format!("{}/{}", b.package, b.name).contains(o.as_str()))
        })
        .collect();
    if selected.is_empty() {
        return Err("no benchmark matches --only".to_owned());
    }
    let criterion_dir = target_dir()?.join("criterion");
    let started = now();
    let before = uptime();
    let source = source_state();
    let mut runs = Vec::new();
    for bench in selected {
        let outcome = run_one(&bench, options.quick, &criterion_dir);
        runs.push((bench, outcome));
    }
    let after = uptime();
    let md = report(options, &runs, &started, [before, after, source]);
    if let Some(parent) = options.out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&options.out, &md).map_err(|e| format!("{}: {e}", options.out.display()))?;
    eprintln!("xtask: report written to {}", options.out.display());
    if let Some(docs) = &options.docs {
        let text = std::fs::read_to_string(docs).unwrap_or_default();
        let updated =
            crate::peers::report::replace_between(&text, DOCS_BEGIN, DOCS_END, &docs_section(&md));
        std::fs::write(docs, updated).map_err(|e| format!("{}: {e}", docs.display()))?;
        eprintln!("xtask: section written to {}", docs.display());
    }
    let failed: Vec<_> = runs
        .iter()
        .filter(|(_, o)| !o.ok)
        .map(|(_, o)| o.command.clone())
        .collect();
    match failed.is_empty() {
        true => Ok(()),
        false => Err(failed.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_nests_one_level_down_in_the_docs() {
        let section = docs_section("# Run\n\ntext # not a heading\n## a / b\n");
        assert_eq!(section, "## Run\n\ntext # not a heading\n### a / b");
        let doc =
            crate::peers::report::replace_between("# Benchmarks\n", DOCS_BEGIN, DOCS_END, &section);
        assert!(doc.starts_with("# Benchmarks\n\n<!-- BEGIN xtask:steps -->\n## Run"));
        let again = crate::peers::report::replace_between(&doc, DOCS_BEGIN, DOCS_END, "## Other");
        assert_eq!(again.matches(DOCS_BEGIN).count(), 1);
        assert!(again.contains("## Other") && !again.contains("## Run"));
    }

    #[test]
    fn criterion_report_lines_are_dropped_and_others_kept() {
        let stdout = "redis-benchmark -q -t rpush\n  RPUSH: 38000.00 requests per second\n\
                      replay/10k                time:   [3.7 ms 3.8 ms 3.9 ms]\n\
                      \x20                       thrpt:  [2.5 Melem/s 2.6 Melem/s 2.7 Melem/s]\n\
                      Found 2 outliers among 100 measurements (2.00%)\n\
                      \x20 2 (2.00%) high mild\n\
                      group/long_benchmark_name\n\n\
                      (each run: 56 chunks)\n";
        assert_eq!(
            non_criterion_lines(stdout, &["group/long_benchmark_name"]),
            "redis-benchmark -q -t rpush\n  RPUSH: 38000.00 requests per second\n\n(each run: 56 chunks)"
        );
    }

    #[test]
    fn results_count_only_when_the_benchmark_printed_their_id() {
        let stdout = "group/a                 time:   [1.0 ms 1.1 ms 1.2 ms]\ngroup/long_name\n  time: [..]\n";
        assert!(printed_id(stdout, "group/a"));
        assert!(printed_id(stdout, "group/long_name"));
        assert!(!printed_id(stdout, "group/b"));
        assert!(!printed_id(stdout, "group/lo"));
    }

    #[test]
    fn criterion_samples_give_time_per_iteration() {
        let dir = std::env::temp_dir().join(format!("xtask-test-{}", std::process::id()));
        let new = dir.join("group/fn/new");
        std::fs::create_dir_all(&new).unwrap_or_default();
        let meta = r#"{"full_id":"group/fn","throughput":{"Elements":1000}}"#;
        let sample = r#"{"iters":[10.0,20.0,10.0],"times":[1000.0,4000.0,3000.0]}"#;
        std::fs::write(new.join("benchmark.json"), meta).unwrap_or_default();
        std::fs::write(new.join("sample.json"), sample).unwrap_or_default();
        let mut found = Vec::new();
        fresh_results(&dir, SystemTime::UNIX_EPOCH, &mut found);
        let result = found.first().and_then(|p| criterion_result(p));
        let _ = std::fs::remove_dir_all(&dir);
        let result = result.map(|r| (r.id, r.time.median, r.time.min, r.time.max, r.throughput));
        assert_eq!(
            result,
            Some((
                "group/fn".to_owned(),
                200.0,
                100.0,
                300.0,
                Some((1000.0, "elements/s"))
            ))
        );
    }
}
