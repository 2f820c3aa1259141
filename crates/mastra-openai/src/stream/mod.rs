//! The state machine from `chat.completion.chunk` events to [`ModelPart`]s.
//!
//! Text and reasoning deltas pass straight through. Tool calls arrive as fragments keyed by
//! `index` (possibly interleaved across calls): the first fragment with an id and a name gives
//! a `ToolCallStart`, every argument fragment a `ToolCallDelta`, and the choice's
//! `finish_reason` the complete `ToolCall`s. Usage comes in a last chunk with no choices, so
//! `Finish` waits for `[DONE]` (or the end of the body once a finish reason was seen).

use crate::error;
use mastra_core::{FinishReason, ModelError, ModelPart, Usage};
use serde::Deserialize;
use serde_json::Value;
use std::collections::VecDeque;

/// Whether more events may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    More,
    Done,
}

#[derive(Debug, Default)]
pub(crate) struct Decoder {
    calls: Vec<PendingCall>,
    reason: Option<FinishReason>,
    usage: Option<Usage>,
}

#[derive(Debug)]
struct PendingCall {
    index: u32,
    id: String,
    name: String,
    args: String,
    started: bool,
    emitted: bool,
}

#[derive(Debug, Deserialize)]
struct ChunkWire {
    choices: Option<Vec<ChoiceWire>>,
    usage: Option<UsageWire>,
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChoiceWire {
    index: Option<u32>,
    delta: Option<DeltaWire>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DeltaWire {
    content: Option<String>,
    refusal: Option<String>,
    reasoning_content: Option<String>,
    reasoning: Option<String>,
    tool_calls: Option<Vec<ToolCallWire>>,
}

#[derive(Debug, Deserialize)]
struct ToolCallWire {
    index: Option<u32>,
    id: Option<String>,
    function: Option<FunctionWire>,
}

#[derive(Debug, Deserialize)]
struct FunctionWire {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UsageWire {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    total_tokens: Option<u64>,
}

impl Decoder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Reads the data of one event, queueing the parts it yields.
    pub(crate) fn event(
        &mut self,
        data: &str,
        out: &mut VecDeque<ModelPart>,
    ) -> Result<Progress, ModelError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.finish(out)?;
            return Ok(Progress::Done);
        }
        if data.is_empty() {
            return Ok(Progress::More);
        }
        let chunk: ChunkWire = serde_json::from_str(data).map_err(|e| {
            let data = error::truncate(data, 200);
            ModelError::Malformed(format!("event is not a completion chunk ({e}): {data}"))
        })?;
        if let Some(error) = chunk.error {
            return Err(error::stream_error(&error));
        }
        if let Some(usage) = chunk.usage {
            let input = usage.prompt_tokens.unwrap_or(0);
            let output = usage.completion_tokens.unwrap_or(0);
            self.usage = Some(Usage {
                input_tokens: input,
                output_tokens: output,
                total_tokens: usage.total_tokens.unwrap_or(input + output),
            });
        }
        // We never ask for `n > 1`, so only the first choice is ours.
        for choice in chunk.choices.into_iter().flatten() {
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                self.delta(delta, out);
            }
            if let Some(reason) = choice.finish_reason {
                self.reason = Some(finish_reason(&reason));
                self.emit_calls(out)?;
            }
        }
        Ok(Progress::More)
    }

    /// The body ended without `[DONE]`: fine once the model finished, a disconnect before.
    pub(crate) fn end_of_body(&mut self, out: &mut VecDeque<ModelPart>) -> Result<(), ModelError> {
        if self.reason.is_none() {
            return Err(ModelError::Disconnected(
                "the response ended before the model finished".to_owned(),
            ));
        }
        self.finish(out)
    }

    fn delta(&mut self, delta: DeltaWire, out: &mut VecDeque<ModelPart>) {
        let reasoning = delta.reasoning_content.or(delta.reasoning);
        if let Some(text) = reasoning.filter(|t| !t.is_empty()) {
            out.push_back(ModelPart::ReasoningDelta(text));
        }
        for text in [delta.content, delta.refusal].into_iter().flatten() {
            if !text.is_empty() {
                out.push_back(ModelPart::TextDelta(text));
            }
        }
        for call in delta.tool_calls.into_iter().flatten() {
            self.tool_call_fragment(call, out);
        }
    }

    fn tool_call_fragment(&mut self, wire: ToolCallWire, out: &mut VecDeque<ModelPart>) {
        let id = wire.id.filter(|id| !id.is_empty());
        let (name, fragment) = match wire.function {
            Some(f) => (
                f.name.filter(|n| !n.is_empty()),
                f.arguments.unwrap_or_default(),
            ),
            None => (None, String::new()),
        };
        // Without an index (some compatible servers), a new id opens a call, no id continues one.
        let position = match (wire.index, &id) {
            (Some(index), _) => self.calls.iter().position(|c| c.index == index),
            (None, Some(id)) => self.calls.iter().position(|c| &c.id == id),
            (None, None) => self.calls.len().checked_sub(1),
        };
        let position = position.unwrap_or_else(|| {
            let index = wire.index.unwrap_or(self.calls.len() as u32);
            self.calls.push(PendingCall {
                index,
                id: String::new(),
                name: String::new(),
                args: String::new(),
                started: false,
                emitted: false,
            });
            self.calls.len() - 1
        });
        let Some(call) = self.calls.get_mut(position) else {
            return;
        };
        if call.emitted {
            return;
        }
        if let (true, Some(id)) = (call.id.is_empty(), id) {
            call.id = id;
        }
        if let (true, Some(name)) = (call.name.is_empty(), name) {
            call.name = name;
        }
        call.args.push_str(&fragment);
        if call.started {
            if !fragment.is_empty() {
                out.push_back(ModelPart::ToolCallDelta {
                    id: call.id.clone(),
                    args_delta: fragment,
                });
            }
        } else if !call.id.is_empty() && !call.name.is_empty() {
            call.started = true;
            out.push_back(ModelPart::ToolCallStart {
                id: call.id.clone(),
                name: call.name.clone(),
            });
            // Fragments that came before the id and name, plus this one.
            if !call.args.is_empty() {
                out.push_back(ModelPart::ToolCallDelta {
                    id: call.id.clone(),
                    args_delta: call.args.clone(),
                });
            }
        }
    }

    fn emit_calls(&mut self, out: &mut VecDeque<ModelPart>) -> Result<(), ModelError> {
        for call in self.calls.iter_mut().filter(|c| !c.emitted) {
            if call.name.is_empty() {
                return Err(ModelError::Malformed(format!(
                    "tool call at index {} has no function name",
                    call.index
                )));
            }
            if call.id.is_empty() {
                call.id = format!("call_{}", call.index);
            }
            call.emitted = true;
            out.push_back(ModelPart::ToolCall {
                id: call.id.clone(),
                name: call.name.clone(),
                args: call.args.clone(),
            });
        }
        Ok(())
    }

    /// Queues the pending tool calls and the one `Finish` part.
    fn finish(&mut self, out: &mut VecDeque<ModelPart>) -> Result<(), ModelError> {
        self.emit_calls(out)?;
        let has_calls = !self.calls.is_empty();
        // Some servers say `stop` after tool calls; the agent loop continues only on `tool-calls`.
        let reason = match self.reason {
            Some(FinishReason::Stop) | None if has_calls => FinishReason::ToolCalls,
            Some(reason) => reason,
            None => FinishReason::Other,
        };
        out.push_back(ModelPart::Finish {
            reason,
            usage: self.usage.unwrap_or_default(),
        });
        Ok(())
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

#[cfg(test)]
mod tests;
