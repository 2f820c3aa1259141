//! The generated section: ours against upstream per metric, with the ratio, the ceiling,
//! the commands, the date and the machine's load.

use super::ceiling::{event_json, truncate, CeilingRow};
use super::{Context, Figures};
use crate::machine::description;
use crate::stats::{number, Spread};
use serde_json::Value;

pub(crate) const BEGIN: &str = "<!-- BEGIN xtask:peers -->";
pub(crate) const END: &str = "<!-- END xtask:peers -->";

struct Metric {
    label: &'static str,
    path: &'static [&'static str],
    unit: &'static str,
    lower_is_better: bool,
    /// How "better" reads for this metric: faster, less (memory).
    better: &'static str,
    worse: &'static str,
}

const fn metric(
    label: &'static str,
    path: &'static [&'static str],
    unit: &'static str,
    lower_is_better: bool,
) -> Metric {
    Metric {
        label,
        path,
        unit,
        lower_is_better,
        better: "faster",
        worse: "slower",
    }
}

const fn memory(label: &'static str, path: &'static [&'static str]) -> Metric {
    Metric {
        label,
        path,
        unit: "MiB",
        lower_is_better: true,
        better: "less",
        worse: "more",
    }
}

const METRICS: &[Metric] = &[
    metric(
        "W1 one run of 10,000 deltas, read to the end",
        &["w1", "ms"],
        "ms",
        true,
    ),
    metric("W1 throughput", &["w1", "chunks_per_s"], "chunks/s", false),
    metric("W1 first chunk", &["w1", "first_chunk_ms"], "ms", true),
    metric(
        "W2 replay of the finished run from offset 0",
        &["w2_offset0", "ms"],
        "ms",
        true,
    ),
    metric(
        "W2 replay from the middle",
        &["w2_middle", "ms"],
        "ms",
        true,
    ),
    metric(
        "W3 1,000 sequential runs of 50 deltas",
        &["w3_sequential", "runs_per_s"],
        "runs/s",
        false,
    ),
    metric(
        "W3 sequential, p50 per run",
        &["w3_sequential", "p50_run_ms"],
        "ms",
        true,
    ),
    metric(
        "W3 200 concurrent runs of 50 deltas",
        &["w3_concurrent", "runs_per_s"],
        "runs/s",
        false,
    ),
    memory("process RSS at start", &["rss_start_mb"]),
    memory("process RSS with the backends set up", &["rss_at_rest_mb"]),
    memory("peak RSS after W1", &["w1", "peak_rss_mb"]),
    memory("peak RSS of the process (after W3)", &["peak_rss_mb"]),
];

fn values(runs: &[Value], path: &[&str]) -> Vec<f64> {
    runs.iter()
        .filter_map(|run| {
            path.iter()
                .try_fold(run, |v, key| v.get(key))
                .and_then(Value::as_f64)
        })
        .collect()
}

fn verdict(metric: &Metric, ours: f64, theirs: f64) -> String {
    if ours <= 0.0 || theirs <= 0.0 {
        return "-".to_owned();
    }
    let ours_better = match metric.lower_is_better {
        true => ours <= theirs,
        false => ours >= theirs,
    };
    let factor = match ours >= theirs {
        true => ours / theirs,
        false => theirs / ours,
    };
    let word = if ours_better {
        metric.better
    } else {
        metric.worse
    };
    format!("{}x {word}", number(factor))
}

fn comparison(ours: &[Value], theirs: &[Value]) -> String {
    let mut md = String::from(
        "| metric | unit | ours | upstream | ours / upstream | ours is |\n|---|---|---|---|---:|---|\n",
    );
    for m in METRICS {
        let o = Spread::of(&values(ours, m.path));
        let t = Spread::of(&values(theirs, m.path));
        let show = |s: Option<Spread>| s.map_or_else(|| "-".to_owned(), |s| s.show());
        let (ratio, word) = match (o, t) {
            (Some(o), Some(t)) if t.median > 0.0 => {
                (number(o.median / t.median), verdict(m, o.median, t.median))
            }
            _ => ("-".to_owned(), "-".to_owned()),
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            m.label,
            m.unit,
            show(o),
            show(t),
            ratio,
            word
        ));
    }
    md
}

fn ours_only(ours: &[Value]) -> String {
    let mut md = String::from("| metric | unit | ours |\n|---|---|---|\n");
    for m in METRICS {
        let o = Spread::of(&values(ours, m.path)).map_or_else(|| "-".to_owned(), |s| s.show());
        md.push_str(&format!("| {} | {} | {} |\n", m.label, m.unit, o));
    }
    md
}

/// Chunks each side read per workload (first run), so a reader sees the work was the same.
fn chunk_counts(ours: &[Value], theirs: &[Value]) -> String {
    let count = |runs: &[Value], key: &str| {
        runs.first()
            .and_then(|r| r.get(key))
            .and_then(|w| w.get("chunks"))
            .and_then(Value::as_u64)
            .map_or_else(|| "-".to_owned(), |n| n.to_string())
    };
    [
        "w1",
        "w2_offset0",
        "w2_middle",
        "w3_sequential",
        "w3_concurrent",
    ]
    .iter()
    .map(|key| format!("{key} {} / {}", count(ours, key), count(theirs, key)))
    .collect::<Vec<_>>()
    .join(", ")
}

fn ceiling_table(rows: &[CeilingRow], figures: &Figures) -> String {
    let mut md = String::from("| command | connections | requests/s |\n|---|---:|---:|\n");
    for row in rows {
        let result = match &row.result {
            Ok(rps) => number(*rps),
            Err(e) => format!("failed: {}", truncate(e, 80)),
        };
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            row.what, row.connections, result
        ));
    }
    let eval_one = rows
        .iter()
        .find(|r| r.connections == 1 && r.what.starts_with("EVAL of our append"))
        .and_then(|r| r.result.as_ref().ok().copied());
    let ours_w1 = Spread::of(&values(&figures.ours_redis, &["w1", "chunks_per_s"]));
    let theirs_w1 = Spread::of(&values(&figures.theirs_redis, &["w1", "chunks_per_s"]));
    if let (Some(eval), Some(ours), Some(theirs)) = (eval_one, ours_w1, theirs_w1) {
        md.push_str(&format!(
            "\nA run that awaited one script call per event would be capped by the \
             single-connection `EVAL` rate; ours hands a run's events to the log in pipelined \
             batches (one script call per batch), so it is not: W1 with Redis reaches {}% of \
             that rate here ({} chunks/s), upstream {}% ({} chunks/s).\n",
            number(ours.median / eval * 100.0),
            number(ours.median),
            number(theirs.median / eval * 100.0),
            number(theirs.median)
        ));
    }
    md.push_str(&format!(
        "\nCommands: `<APPEND>` and `<PUBLISH>` are the scripts of the same names in \
         `crates/mastra-redis/src/scripts/`, read from there at bench time; `<event>` is a \
         text-delta envelope of {} bytes:\n\n```text\n",
        event_json().len()
    ));
    for row in rows {
        md.push_str(&row.command);
        md.push('\n');
    }
    md.push_str("```\n");
    md
}

pub(crate) fn section(figures: &Figures, ceiling: &[CeilingRow], context: &Context) -> String {
    let mut md = String::new();
    md.push_str("## Against upstream Mastra for Node (`cargo xtask bench --peers`)\n\n");
    md.push_str(
        "Generated by `cargo xtask bench --peers`; do not edit by hand, run it again. \
         Everything between the `xtask:peers` markers comes from one run.\n\n",
    );
    md.push_str(&format!(
        "- Date: {}; the run took {} minutes.\n",
        context.started,
        number(context.minutes)
    ));
    md.push_str(&format!("- Machine: {}\n", description()));
    md.push_str(&format!("- Source: {}\n", context.source));
    md.push_str(&format!("- `uptime` before: `{}`\n", context.uptime_before));
    md.push_str(&format!("- `uptime` after: `{}`\n", context.uptime_after));
    let versions: Vec<String> = context
        .versions
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    md.push_str(&format!("- Versions: {}\n", versions.join(", ")));
    md.push_str(&format!(
        "- Each side ran every workload set in {} fresh processes per backend, interleaved \
         (ours, then upstream's, in turn); cells show the median [min, max] over them.\n",
        context.runs
    ));
    md.push_str(
        "\nWorkloads (identical on both sides; the model costs nothing, so the figures are \
         the durable machinery's own cost):\n\n\
         - the mock model streams `text-delta`s of 20 bytes, then `finish`, with no delay \
         (upstream: the AI SDK's `MockLanguageModelV2` whose `doStream` is \
         `simulateReadableStream` with `null` delays; ours: a `LanguageModel` of the same parts);\n\
         - W1: `createDurableAgent({agent})` / `create_durable_agent(agent)`, one run of 10,000 \
         deltas, its stream read to the end (10,006 chunks);\n\
         - W2: that finished run observed from offset 0, then from the middle of its log;\n\
         - W3: 1,000 runs of 50 deltas one after the other, then 200 at once;\n\
         - memory: the process's resident set (`VmRSS`/`VmHWM` for ours, \
         `process.memoryUsage().rss`/`resourceUsage().maxRSS` for Node), in MiB.\n\
         - Our runtime is tokio's multi-thread scheduler on the machine's cores; Node runs \
         JavaScript on one thread.\n",
    );
    md.push_str("\n### In memory\n\n");
    md.push_str(&comparison(&figures.ours_memory, &figures.theirs_memory));
    md.push_str(&format!(
        "\nChunks read, ours / upstream: {}.\n",
        chunk_counts(&figures.ours_memory, &figures.theirs_memory)
    ));
    md.push_str("\n### With Redis\n\n");
    md.push_str(
        "Upstream's Redis variant is `RedisServerCache` from `@mastra/redis` (node-redis \
         client with its `nodeRedisPreset`; one Lua `EVAL` per event) for the run log, with \
         live events in process: `@mastra/redis` has no pubsub, so that is the only Redis \
         durable agent it offers. Ours runs the same way here (`RedisServerCache` for the log, \
         in-process pubsub); each process has its own key prefix and deletes its keys at \
         the end.\n\n",
    );
    md.push_str(&comparison(&figures.ours_redis, &figures.theirs_redis));
    md.push_str(&format!(
        "\nChunks read, ours / upstream: {}.\n",
        chunk_counts(&figures.ours_redis, &figures.theirs_redis)
    ));
    md.push_str(
        "\nOurs with live events through Redis pub/sub as well (what several processes \
         sharing runs use; upstream has no equivalent to compare with):\n\n",
    );
    md.push_str(&ours_only(&figures.ours_redis_pubsub));
    md.push_str("\n### Ceiling: raw Redis commands (`redis-benchmark`, same server)\n\n");
    md.push_str(&ceiling_table(ceiling, figures));
    md.push_str("\n### Commands\n\n```sh\n");
    for command in &context.commands {
        md.push_str(command);
        md.push('\n');
    }
    md.push_str("```\n");
    if !context.failures.is_empty() {
        md.push_str("\n**Runs that failed** (not counted above):\n\n");
        for failure in &context.failures {
            md.push_str(&format!("- {}\n", truncate(failure, 300)));
        }
    }
    md
}

/// `text` with the generated section between the markers replaced by `section`; the
/// markers and the section are appended when the text has none.
pub(crate) fn replace_section(text: &str, section: &str) -> String {
    replace_between(text, BEGIN, END, section)
}

/// `text` with what lies between the `begin` and `end` markers replaced by `section` (the
/// markers appended at the end when missing).
pub(crate) fn replace_between(
    text: &str,
    begin_marker: &str,
    end_marker: &str,
    section: &str,
) -> String {
    let block = format!("{begin_marker}\n{}\n{end_marker}", section.trim_end());
    match (text.find(begin_marker), text.find(end_marker)) {
        (Some(begin), Some(end)) if end > begin => {
            format!(
                "{}{block}{}",
                &text[..begin],
                &text[end + end_marker.len()..]
            )
        }
        _ => {
            let mut out = text.trim_end().to_owned();
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&block);
            out.push('\n');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_section_is_appended_once_then_replaced() {
        let doc = "# Benchmarks\n\ntext\n";
        let first = replace_section(doc, "figures 1");
        assert_eq!(
            first,
            format!("# Benchmarks\n\ntext\n\n{BEGIN}\nfigures 1\n{END}\n")
        );
        let second = replace_section(&first, "figures 2\n");
        assert_eq!(
            second,
            format!("# Benchmarks\n\ntext\n\n{BEGIN}\nfigures 2\n{END}\n")
        );
    }

    #[test]
    fn ratios_say_which_side_is_better() {
        let time = &METRICS[0];
        assert_eq!(verdict(time, 100.0, 1000.0), "10.0x faster");
        assert_eq!(verdict(time, 300.0, 100.0), "3.00x slower");
        let rate = &METRICS[1];
        assert_eq!(verdict(rate, 50_000.0, 10_000.0), "5.00x faster");
        let rss = &METRICS[11];
        assert_eq!(verdict(rss, 50.0, 400.0), "8.00x less");
    }

    #[test]
    fn comparison_rows_use_medians_of_repeated_runs() {
        let ours = vec![
            json!({"w1": {"ms": 80.0}}),
            json!({"w1": {"ms": 100.0}}),
            json!({"w1": {"ms": 90.0}}),
        ];
        let theirs = vec![json!({"w1": {"ms": 900.0}})];
        let table = comparison(&ours, &theirs);
        let row = table.lines().nth(2).unwrap_or_default();
        assert_eq!(
            row,
            "| W1 one run of 10,000 deltas, read to the end | ms | 90.0 [80.0, 100] | 900 | 0.100 | 10.0x faster |"
        );
    }
}
