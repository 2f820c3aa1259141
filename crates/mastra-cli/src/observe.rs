//! `mastra observe <agentId> <runId>`: tails a run in the terminal through the resumable
//! client, which observes again from the next index whenever the connection is lost.

use crate::args::ObserveArgs;
use futures::StreamExt;
use mastra_client::{envelope_chunk, ClientError, MastraClient, OwnershipClaim};
use mastra_core::ChunkKind;
use mastra_pubsub::{Event, EventType};
use std::io::Write;

/// The environment variable holding the bearer token `observe` sends.
pub(crate) const TOKEN_ENV: &str = "MASTRA_API_TOKEN";

/// How a tailed run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// A `finish` envelope (any reason).
    Finished,
    /// An `error` envelope, or the stream ended without a terminal envelope.
    Failed,
}

/// Prints the run's events from `args.offset` to `out` until the run ends. On a terminal,
/// an ownership claim rewrites what the interrupted step had printed; elsewhere it prints
/// a note, then the re-run step's output.
pub(crate) async fn observe(
    args: &ObserveArgs,
    out: &mut impl Write,
    terminal: bool,
) -> Result<Ending, ClientError> {
    let mut client = MastraClient::new(&args.url)?;
    if let Ok(token) = std::env::var(TOKEN_ENV) {
        client = client.with_token(token);
    }
    let mut events = client.observe(&args.agent_id, &args.run_id, args.offset);
    let mut printer = Printer::new(terminal);
    let mut ending = Ending::Failed;
    while let Some(event) = events.next().await {
        let event = event?;
        if let Some(end) = printer.print(&event, out) {
            ending = end;
        }
        let _ = out.flush();
    }
    printer.end_line(out);
    let _ = out.flush();
    Ok(ending)
}

/// What one event shows: streamed text, or a line of its own.
#[derive(Debug, Clone)]
enum Shown {
    Text(String),
    Line(String),
}

/// Keeps streamed text on one line and everything else on lines of its own, and
/// remembers which event printed what, so that an ownership claim (docs/crash-recovery.md)
/// can take back what a crashed worker's interrupted step had printed.
#[derive(Debug, Default)]
struct Printer {
    /// Rewrite the screen on a claim (a terminal), or print a note (a pipe, a file).
    terminal: bool,
    /// What each kept event showed, with its index.
    shown: Vec<(Option<u64>, Shown)>,
    /// Everything printed since the last claim's rewrite (terminal), as it is on screen.
    screen: String,
    mid_line: bool,
    /// The newest ownership generation seen: older events are stale.
    generation: Option<u64>,
}

impl Printer {
    fn new(terminal: bool) -> Self {
        Self {
            terminal,
            ..Self::default()
        }
    }

    fn print(&mut self, event: &Event, out: &mut impl Write) -> Option<Ending> {
        if let (Some(generation), Some(seen)) = (event.generation, self.generation) {
            if generation < seen {
                return None; // a superseded executor's event
            }
        }
        self.generation = self.generation.max(event.generation);
        if let Some(claim) = OwnershipClaim::from_event(event) {
            self.claim(&claim, event.index, out);
            return None;
        }
        let (shown, ending) = match event.kind {
            EventType::Suspended => {
                let tool = event.data.get("toolName").and_then(|t| t.as_str());
                let what = event.data.get("type").and_then(|t| t.as_str());
                let line = format!(
                    "[suspended: {} {}; waiting for an answer]",
                    what.unwrap_or("suspension"),
                    tool.unwrap_or("")
                );
                (Shown::Line(line), None)
            }
            EventType::Abort => (Shown::Line("[aborted]".into()), Some(Ending::Finished)),
            _ => describe(envelope_chunk(event)?)?,
        };
        self.show(event.index, shown, out);
        ending
    }

    fn show(&mut self, index: Option<u64>, shown: Shown, out: &mut impl Write) {
        let text = render(&shown, &mut self.mid_line);
        let _ = write!(out, "{text}");
        self.screen.push_str(&text);
        self.shown.push((index, shown));
    }

    /// Drops what the events of `claim.void_from <= index < at` showed.
    fn claim(&mut self, claim: &OwnershipClaim, at: Option<u64>, out: &mut impl Write) {
        let Some(from) = claim.void_from else { return };
        let before = self.shown.len();
        self.shown.retain(|(index, _)| match index {
            Some(index) => *index < from || at.is_some_and(|at| *index > at),
            None => true,
        });
        if self.shown.len() == before {
            return; // nothing printed was void
        }
        let mut mid_line = false;
        let kept: String = self
            .shown
            .iter()
            .map(|(_, shown)| render(shown, &mut mid_line))
            .collect();
        if self.terminal {
            // Back to the start of the first line that changes, clear below, print anew.
            let same = common_prefix(&self.screen, &kept);
            let line_start = self.screen[..same].rfind('\n').map_or(0, |i| i + 1);
            let _ = match self.screen[line_start..].matches('\n').count() {
                0 => write!(out, "\r\x1b[J{}", &kept[line_start..]),
                up => write!(out, "\x1b[{up}F\x1b[J{}", &kept[line_start..]),
            };
            self.screen = kept;
            self.mid_line = mid_line;
        } else {
            let step = claim.step.map_or(String::new(), |s| format!(" step {s}"));
            let note = format!(
                "[ownership-claimed: another worker re-runs{step}; what was shown from event {from} on is void]"
            );
            self.end_line(out);
            let _ = writeln!(out, "{note}");
            self.screen.clear();
        }
    }

    fn end_line(&mut self, out: &mut impl Write) {
        if std::mem::take(&mut self.mid_line) {
            let _ = writeln!(out);
            self.screen.push('\n');
        }
    }
}

/// What a chunk shows, and whether it ends the run.
fn describe(chunk: mastra_core::Chunk) -> Option<(Shown, Option<Ending>)> {
    let line = |text: String| Some((Shown::Line(text), None));
    match chunk.kind {
        ChunkKind::TextDelta(delta) => Some((Shown::Text(delta.text), None)),
        ChunkKind::ToolCall(call) => {
            let args = call.args.map(|a| a.to_string()).unwrap_or_default();
            line(format!("[tool-call {} {args}]", call.tool_name))
        }
        ChunkKind::ToolResult(result) => {
            let label = match result.is_error {
                Some(true) => "tool-error",
                _ => "tool-result",
            };
            line(format!("[{label} {} {}]", result.tool_name, result.result))
        }
        ChunkKind::ToolError(error) => line(format!(
            "[tool-error {} {}]",
            error.tool_name, error.error.message
        )),
        ChunkKind::ToolCallApproval(call) => line(format!(
            "[approval needed: {} {}]",
            call.tool_name, call.args
        )),
        ChunkKind::Finish(finish) => {
            let reason = serde_json::to_value(finish.step_result.reason).unwrap_or_default();
            let reason = reason.as_str().unwrap_or("unknown").to_owned();
            let shown = Shown::Line(format!("[finish: {reason}]"));
            Some((shown, Some(Ending::Finished)))
        }
        ChunkKind::Error(error) => {
            let shown = Shown::Line(format!("[error: {}]", error.error.message));
            Some((shown, Some(Ending::Failed)))
        }
        _ => None,
    }
}

/// The characters `shown` prints, given whether the cursor is in the middle of a line.
fn render(shown: &Shown, mid_line: &mut bool) -> String {
    match shown {
        Shown::Text(text) => {
            *mid_line = true;
            text.clone()
        }
        Shown::Line(line) => {
            let newline = if std::mem::take(mid_line) { "\n" } else { "" };
            format!("{newline}{line}\n")
        }
    }
}

/// The length in bytes of the longest common prefix (on a character boundary).
fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mastra_core::chunk::DeltaPayload;
    use mastra_core::Chunk;
    use serde_json::json;

    fn event(
        index: u64,
        generation: Option<u64>,
        kind: EventType,
        data: serde_json::Value,
    ) -> Event {
        let mut event = Event::new(kind, "r", data);
        event.index = Some(index);
        event.generation = generation;
        event
    }

    fn delta(index: u64, generation: u64, text: &str) -> Event {
        let chunk = Chunk::agent(
            "r",
            ChunkKind::TextDelta(DeltaPayload {
                id: "t".into(),
                text: text.into(),
                provider_metadata: None,
            }),
        );
        let data = serde_json::to_value(chunk).unwrap();
        event(index, Some(generation), EventType::Chunk, data)
    }

    fn tool_call(index: u64, generation: u64) -> Event {
        let data = json!({"type": "tool-call", "runId": "r", "from": "AGENT",
            "payload": {"toolCallId": "c", "toolName": "weather", "args": {"city": "Paris"}}});
        event(index, Some(generation), EventType::Chunk, data)
    }

    fn finish(index: u64, generation: u64) -> Event {
        let data = json!({"output": {"text": "", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}},
            "stepResult": {"reason": "stop", "warnings": [], "isContinued": false}});
        event(index, Some(generation), EventType::Finish, data)
    }

    fn claimed(index: u64, generation: u64, void_from: u64) -> Event {
        let data = json!({"generation": generation, "voidFrom": void_from, "step": 1});
        event(index, Some(generation), EventType::OwnershipClaimed, data)
    }

    /// A tool round, then a model step streaming "It is sunny." that crashed after
    /// "It is" and was re-run by generation 2; a stale " sunny" of generation 1 follows.
    fn crashed() -> Vec<Event> {
        vec![
            tool_call(1, 1),
            delta(2, 1, "It"),
            delta(3, 1, " is"),
            claimed(4, 2, 2),
            delta(5, 2, "It"),
            delta(6, 1, " sunny"),
            delta(7, 2, " is"),
            delta(8, 2, " sunny."),
            finish(9, 2),
        ]
    }

    fn not_crashed() -> Vec<Event> {
        vec![
            tool_call(1, 1),
            delta(2, 1, "It"),
            delta(3, 1, " is"),
            delta(4, 1, " sunny."),
            finish(5, 1),
        ]
    }

    fn print_all(events: &[Event], terminal: bool) -> String {
        let mut printer = Printer::new(terminal);
        let mut out = Vec::new();
        for event in events {
            printer.print(event, &mut out);
        }
        printer.end_line(&mut out);
        String::from_utf8(out).unwrap()
    }

    /// What a terminal shows for `output` (`\r`, `ESC[nF` and `ESC[J` understood).
    fn screen(output: &str) -> String {
        let mut lines = vec![String::new()];
        let (mut row, mut col) = (0usize, 0usize);
        let mut rest = output;
        while let Some(c) = rest.chars().next() {
            if let Some(escape) = rest.strip_prefix("\x1b[") {
                let end = escape.find(|c: char| c.is_ascii_alphabetic()).unwrap();
                match &escape[end..=end] {
                    "F" => {
                        row -= escape[..end].parse::<usize>().unwrap();
                        col = 0;
                    }
                    "J" => {
                        lines.truncate(row + 1);
                        lines[row].truncate(col);
                    }
                    other => panic!("unexpected escape {other}"),
                }
                rest = &escape[end + 1..];
                continue;
            }
            match c {
                '\r' => col = 0,
                '\n' => {
                    row += 1;
                    col = 0;
                    if lines.len() <= row {
                        lines.push(String::new());
                    }
                }
                c => {
                    lines[row].truncate(col);
                    lines[row].push(c);
                    col += 1;
                }
            }
            rest = &rest[c.len_utf8()..];
        }
        lines.join("\n")
    }

    #[test]
    fn on_a_terminal_a_claim_rewrites_the_interrupted_step() {
        let plain = print_all(&not_crashed(), true);
        assert_eq!(
            plain,
            "[tool-call weather {\"city\":\"Paris\"}]\nIt is sunny.\n[finish: stop]\n"
        );
        let crashed = print_all(&crashed(), true);
        assert!(crashed.contains('\x1b'), "{crashed:?}");
        assert_eq!(screen(&crashed), screen(&plain));
    }

    #[test]
    fn a_claim_that_voids_lines_moves_up() {
        // The crash came after a tool call of the re-run step had been printed.
        let events = vec![
            delta(1, 1, "Let me look."),
            tool_call(2, 1),
            claimed(3, 2, 1),
            delta(4, 2, "Let me look."),
            tool_call(5, 2),
            finish(6, 2),
        ];
        let plain = vec![delta(1, 1, "Let me look."), tool_call(2, 1), finish(3, 1)];
        let crashed = print_all(&events, true);
        assert!(crashed.contains("\x1b[2F"), "{crashed:?}");
        assert_eq!(screen(&crashed), screen(&print_all(&plain, true)));
    }

    #[test]
    fn elsewhere_a_claim_prints_a_note_and_the_re_run() {
        let output = print_all(&crashed(), false);
        let note = "[ownership-claimed: another worker re-runs step 1; what was shown from event 2 on is void]\n";
        let (before, after) = output.split_once(note).unwrap();
        assert_eq!(before, "[tool-call weather {\"city\":\"Paris\"}]\nIt is\n");
        assert_eq!(after, "It is sunny.\n[finish: stop]\n");
        assert!(!output.contains('\x1b'));
    }

    #[test]
    fn a_claim_that_voids_nothing_prints_nothing() {
        // A step message delivered twice: the next step's owner sees a generation gap.
        let events = vec![
            tool_call(1, 1),
            delta(2, 1, "It"),
            delta(3, 1, " is"),
            delta(4, 1, " sunny."),
            claimed(5, 3, 5),
            finish(6, 3),
        ];
        assert_eq!(print_all(&events, false), print_all(&not_crashed(), false));
    }
}
