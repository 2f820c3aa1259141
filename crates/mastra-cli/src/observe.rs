//! `mastra observe <agentId> <runId>`: tails a run in the terminal through the resumable
//! client, which observes again from the next index whenever the connection is lost.

use crate::args::ObserveArgs;
use futures::StreamExt;
use mastra_client::{envelope_chunk, ClientError, MastraClient};
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

/// Prints the run's events from `args.offset` to `out` until the run ends.
pub(crate) async fn observe(
    args: &ObserveArgs,
    out: &mut impl Write,
) -> Result<Ending, ClientError> {
    let mut client = MastraClient::new(&args.url)?;
    if let Ok(token) = std::env::var(TOKEN_ENV) {
        client = client.with_token(token);
    }
    let mut events = client.observe(&args.agent_id, &args.run_id, args.offset);
    let mut printer = Printer::default();
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

/// Keeps streamed text on one line and everything else on lines of its own.
#[derive(Debug, Default)]
struct Printer {
    mid_line: bool,
}

impl Printer {
    fn print(&mut self, event: &Event, out: &mut impl Write) -> Option<Ending> {
        match event.kind {
            EventType::Suspended => {
                let tool = event.data.get("toolName").and_then(|t| t.as_str());
                let what = event.data.get("type").and_then(|t| t.as_str());
                self.line(
                    out,
                    &format!(
                        "[suspended: {} {}; waiting for an answer]",
                        what.unwrap_or("suspension"),
                        tool.unwrap_or("")
                    ),
                );
                return None;
            }
            EventType::Abort => {
                self.line(out, "[aborted]");
                return Some(Ending::Finished);
            }
            _ => {}
        }
        let chunk = envelope_chunk(event)?;
        match chunk.kind {
            ChunkKind::TextDelta(delta) => {
                let _ = write!(out, "{}", delta.text);
                self.mid_line = true;
            }
            ChunkKind::ToolCall(call) => {
                let args = call.args.map(|a| a.to_string()).unwrap_or_default();
                self.line(out, &format!("[tool-call {} {args}]", call.tool_name));
            }
            ChunkKind::ToolResult(result) => {
                let label = match result.is_error {
                    Some(true) => "tool-error",
                    _ => "tool-result",
                };
                self.line(
                    out,
                    &format!("[{label} {} {}]", result.tool_name, result.result),
                );
            }
            ChunkKind::ToolError(error) => {
                self.line(
                    out,
                    &format!("[tool-error {} {}]", error.tool_name, error.error.message),
                );
            }
            ChunkKind::ToolCallApproval(call) => {
                self.line(
                    out,
                    &format!("[approval needed: {} {}]", call.tool_name, call.args),
                );
            }
            ChunkKind::Finish(finish) => {
                let reason = serde_json::to_value(finish.step_result.reason).unwrap_or_default();
                let reason = reason.as_str().unwrap_or("unknown").to_owned();
                self.line(out, &format!("[finish: {reason}]"));
                return Some(Ending::Finished);
            }
            ChunkKind::Error(error) => {
                self.line(out, &format!("[error: {}]", error.error.message));
                return Some(Ending::Failed);
            }
            _ => {}
        }
        None
    }

    fn line(&mut self, out: &mut impl Write, text: &str) {
        self.end_line(out);
        let _ = writeln!(out, "{text}");
    }

    fn end_line(&mut self, out: &mut impl Write) {
        if std::mem::take(&mut self.mid_line) {
            let _ = writeln!(out);
        }
    }
}
