//! The chat page's script applies `ownership-claimed` (docs/crash-recovery.md): after a
//! crashed worker's step is re-run by another worker, the page shows the text of a run
//! without a crash. The page's own script runs in Node (`vm`, with a small stand-in for the
//! DOM and `sessionStorage`, no npm packages) and is fed the events of a crashed run, as
//! envelopes from the observe route and as chunks from `/stream`; the test reads the text
//! it rendered. Node must be installed (it is for the interop and browser tests too).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

/// Runs the page's script with stand-ins, feeds it a crashed run, prints what it shows.
const DRIVER: &str = r#"
const fs = require("fs");
const vm = require("vm");
const html = fs.readFileSync(process.argv[1], "utf8");
const script = html.slice(html.indexOf("<script>") + 8, html.lastIndexOf("</script>"));

function node(tag) {
  return {
    tag, className: "", textContent: "", dataset: {}, children: [], disabled: false,
    append(...kids) { this.children.push(...kids); },
    replaceChildren() { this.children = []; },
    addEventListener() {},
  };
}
const nodes = {};
const storage = new Map();
const context = vm.createContext({
  window: {}, JSON, Math, Object, Date, console,
  sessionStorage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => storage.set(k, v) },
  document: {
    body: node("body"),
    getElementById: (id) => (nodes[id] ??= node(id)),
    createElement: node,
  },
});
vm.runInContext(script, context);

// What the page shows as the answer's text.
const shown = () => nodes.messages.children
  .filter((m) => m.className.includes("assistant"))
  .map((m) => m.children.filter((c) => c.className === "text").map((c) => c.textContent).join(""));
const chunk = (type, payload) => ({ type, runId: "r", from: "AGENT", payload });
const delta = (text) => chunk("text-delta", { id: "t", text });
const finish = { type: "finish", payload: { stepResult: { reason: "stop" } } };
const begin = (runId) => vm.runInContext(
  `state.transcript.push({ role: "assistant", runId: "${runId}", items: [] });
   state.run = { runId: "${runId}", lastIndex: -1, generation: null, done: false };`, context);
const accept = (...args) => context.accept(...args);

// Observe route: envelopes with index and generation. The first worker (generation 1)
// streamed "1 2" of the model step, died; generation 2 claims the run (void from 1) and
// streams the whole step again; the first worker, stopped and continued, writes " 3"
// once more (index 5), which is stale.
begin("observed");
accept(0, chunk("start", {}), false, undefined);
accept(1, delta("1"), false, 1);
accept(2, delta(" 2"), false, 1);
accept(3, { type: "ownership-claimed", payload: { generation: 2, voidFrom: 1, step: 0 } }, false, 2);
accept(4, delta("1"), false, 2);
accept(5, delta(" 3"), false, 1);
accept(6, delta(" 2"), false, 2);
accept(7, delta(" 3"), false, 2);
accept(8, finish, false, 2);
const observed = shown()[0];

// /stream: chunks only, counted; the server relays the claim as a chunk and drops stale events.
begin("streamed");
for (const c of [chunk("start", {}), delta("1"), delta(" 2"),
  { type: "ownership-claimed", payload: { generation: 2, voidFrom: 1, step: 0 } },
  delta("1"), delta(" 2"), delta(" 3"), finish]) {
  accept(vm.runInContext("state.run.lastIndex", context) + 1, c, false, null);
}
const streamed = shown()[1];

// A run without a crash, for comparison.
begin("plain");
[chunk("start", {}), delta("1"), delta(" 2"), delta(" 3"), finish]
  .forEach((c, i) => accept(i, c, false, undefined));
const plain = shown()[2];

// The saved state survives a reload and renders the same.
const saved = JSON.parse(storage.get("mastra-chat"));
console.log(JSON.stringify({ observed, streamed, plain, savedRuns: saved.transcript.length,
  generation: saved.run.generation }));
"#;

#[test]
fn the_page_drops_what_a_crashed_worker_streamed() {
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/index.html");
    let output = Command::new("node")
        .args(["-e", DRIVER, page])
        .output()
        .unwrap_or_else(|error| panic!("node is required for this test: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(shown["plain"], "1 2 3");
    assert_eq!(shown["observed"], shown["plain"]);
    assert_eq!(shown["streamed"], shown["plain"]);
    assert_eq!(shown["savedRuns"], 3);
}
