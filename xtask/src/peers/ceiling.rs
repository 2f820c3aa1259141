//! The ceiling: `redis-benchmark` on the raw commands our Redis path issues per event, on
//! the same server: the log append (`RPUSH`, and our append script as `EVAL`) and the live
//! publish (`PUBLISH`, and our publish script as `EVAL`).

use crate::machine::{output, shown, workspace_root};

/// One `redis-benchmark` line.
#[derive(Debug)]
pub(crate) struct CeilingRow {
    pub(crate) what: String,
    pub(crate) connections: u32,
    pub(crate) command: String,
    /// Requests per second, or why there is none.
    pub(crate) result: Result<f64, String>,
}

/// Host and port of a `redis://host:port[/db]` URL.
pub(crate) fn host_port(url: &str) -> (String, String) {
    let rest = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:6379");
    let rest = rest.rsplit('@').next().unwrap_or(rest);
    match rest.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.to_owned()),
        None => (rest.to_owned(), "6379".to_owned()),
    }
}

/// The text of `pub(crate) const NAME: &str = r#"..."#;` in mastra-redis's scripts (one
/// file per concern under `src/scripts/`), so the ceiling runs the script the backend runs
/// today.
pub(crate) fn script(name: &str) -> Option<String> {
    let dir = workspace_root().join("crates/mastra-redis/src/scripts");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    files.sort();
    files.iter().find_map(|path| {
        let source = std::fs::read_to_string(path).ok()?;
        let start = source.find(&format!("const {name}: &str = r#\""))?;
        let body = &source[start..];
        let open = body.find("r#\"")? + 3;
        let close = body[open..].find("\"#")?;
        Some(body[open..open + close].to_owned())
    })
}

/// Requests per second from `redis-benchmark -q` output (`NAME: 12345.67 requests per second, ...`).
pub(crate) fn requests_per_second(out: &str) -> Option<f64> {
    let line = out
        .split(['\r', '\n'])
        .rfind(|l| l.contains("requests per second"))?;
    let before = &line[..line.find("requests per second")?];
    before.split_whitespace().last()?.parse().ok()
}

/// The event the commands carry (`<event>` in the report).
pub(crate) fn event_json() -> String {
    format!("{{{}", entry_body())
}

/// A log entry of the size our text-delta envelopes have (about 230 bytes), without its
/// leading `{` (the append script adds `{"index":N,`).
fn entry_body() -> String {
    let id = "0b6e7a52-8a3c-4a1e-9a7f-2f6c1d7e9b10";
    format!(
        "\"type\":\"chunk\",\"runId\":\"{id}\",\"id\":\"{id}\",\"createdAt\":\"2026-11-29T21:00:00.000Z\",\
         \"data\":{{\"type\":\"text-delta\",\"runId\":\"{id}\",\"from\":\"AGENT\",\
         \"payload\":{{\"id\":\"t\",\"text\":\"abcdefghijklmnopqrs \"}}}}}}"
    )
}

pub(crate) fn measure(redis_url: &str, prefix: &str) -> Vec<CeilingRow> {
    let (host, port) = host_port(redis_url);
    let list = format!("{prefix}rb:list");
    let counter = format!("{prefix}rb:list:counter");
    let stream = format!("{prefix}rb:group-stream");
    let channel = format!("{prefix}rb:channel");
    let body = entry_body();
    let event = event_json();
    // (what, the command's arguments, how the report shows them)
    let mut commands: Vec<(String, Vec<String>, String)> = vec![
        (
            "RPUSH".into(),
            vec!["RPUSH".into(), list.clone(), event.clone()],
            format!("RPUSH {list} <event>"),
        ),
        (
            "PUBLISH".into(),
            vec!["PUBLISH".into(), channel.clone(), event.clone()],
            format!("PUBLISH {channel} <event>"),
        ),
    ];
    match script("APPEND") {
        Some(append) => commands.push((
            "EVAL of our append script".into(),
            vec![
                "EVAL".into(),
                append,
                "2".into(),
                list.clone(),
                counter.clone(),
                body.clone(),
                "300000".into(),
                "0".into(),
            ],
            format!("EVAL <APPEND> 2 {list} {counter} <event without its '{{'> 300000 0"),
        )),
        None => eprintln!("xtask: APPEND script not found in mastra-redis; skipped"),
    }
    match script("PUBLISH") {
        Some(publish) => commands.push((
            "EVAL of our publish script".into(),
            vec![
                "EVAL".into(),
                publish,
                "1".into(),
                stream.clone(),
                channel.clone(),
                event.clone(),
                "10000".into(),
                format!("{channel}:wake"),
                "300000".into(),
            ],
            format!("EVAL <PUBLISH> 1 {stream} {channel} <event> 10000 {channel}:wake 300000"),
        )),
        None => eprintln!("xtask: PUBLISH script not found in mastra-redis; skipped"),
    }
    let mut rows = Vec::new();
    for connections in [1u32, 50] {
        let requests = if connections == 1 { "20000" } else { "100000" };
        for (what, command, display) in &commands {
            let c = connections.to_string();
            let mut args = vec![
                "-h", &host, "-p", &port, "-q", "-n", requests, "-c", &c, "-P", "1",
            ];
            args.extend(command.iter().map(String::as_str));
            eprintln!("==> {}", truncate(&shown("redis-benchmark", &args), 160));
            let line = format!(
                "redis-benchmark -h {host} -p {port} -q -n {requests} -c {c} -P 1 {display}"
            );
            let result = output("redis-benchmark", &args, None)
                .and_then(|out| requests_per_second(&out).ok_or(format!("no figure in: {out}")));
            rows.push(CeilingRow {
                what: what.clone(),
                connections,
                command: line,
                result,
            });
        }
        // The list must not grow across rounds: each round appends to a fresh one.
        let _ = output(
            "redis-cli",
            &["-h", &host, "-p", &port, "DEL", &list, &counter, &stream],
            None,
        );
    }
    rows
}

pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_scripts_the_backend_runs() {
        let append = script("APPEND").expect("APPEND in mastra-redis's scripts");
        assert!(
            append.contains("RPUSH") && append.contains("LLEN"),
            "{append}"
        );
        let publish = script("PUBLISH").expect("PUBLISH in mastra-redis's scripts");
        assert!(publish.contains("XADD"), "{publish}");
        assert_eq!(script("NO_SUCH_SCRIPT"), None);
    }

    #[test]
    fn parses_redis_benchmark_quiet_output() {
        let out = "RPUSH: rps=0.0 (overall: nan) avg_msec=nan\r\
                   RPUSH: 38759.69 requests per second, p50=0.023 msec\n";
        assert_eq!(requests_per_second(out), Some(38759.69));
        let custom = "EVAL local n = redis.call('LLEN', KEYS[1]): 20120.72 requests per second, p50=0.047 msec\n";
        assert_eq!(requests_per_second(custom), Some(20120.72));
        assert_eq!(requests_per_second("ERROR"), None);
    }

    #[test]
    fn host_and_port_from_urls() {
        let pair = |h: &str, p: &str| (h.to_owned(), p.to_owned());
        assert_eq!(
            host_port("redis://127.0.0.1:6379"),
            pair("127.0.0.1", "6379")
        );
        assert_eq!(
            host_port("redis://user:pw@example.org:7000/2"),
            pair("example.org", "7000")
        );
        assert_eq!(host_port("redis://localhost"), pair("localhost", "6379"));
    }

    #[test]
    fn finds_the_append_script_of_mastra_redis() {
        let append = script("APPEND").unwrap_or_default();
        assert!(append.contains("RPUSH"), "append script: {append}");
        assert_eq!(script("NO_SUCH_SCRIPT"), None);
    }
}
