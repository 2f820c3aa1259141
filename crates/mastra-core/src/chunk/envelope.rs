//! Which chunk an event envelope carries (wire-contract §2). `chunk` and `step-start` carry a
//! whole chunk; `step-finish`, `finish` and `error` carry a chunk's payload; other envelopes
//! (`suspended`, lifecycle events) carry none. Given the envelope's parts, so that this crate
//! needs no envelope type: the durable layer and the HTTP client both read envelopes with it.

use super::{Chunk, ChunkKind, ErrorPayload, FinishPayload, StepFinishPayload};
use serde::Deserialize;
use serde_json::Value;

impl Chunk {
    /// The chunk an envelope of type `event_type` for run `run_id` carries in `data`.
    /// Reads `data` in place (no copy of the value first).
    pub fn from_envelope(event_type: &str, run_id: &str, data: &Value) -> Option<Chunk> {
        let wrap = |kind| Some(Chunk::agent(run_id, kind));
        match event_type {
            "chunk" | "step-start" => Chunk::deserialize(data).ok().map(|mut chunk| {
                if chunk.run_id.is_empty() {
                    chunk.run_id = run_id.to_owned();
                }
                chunk
            }),
            "step-finish" => StepFinishPayload::deserialize(data)
                .ok()
                .and_then(|p| wrap(ChunkKind::StepFinish(p))),
            "finish" => FinishPayload::deserialize(data)
                .ok()
                .and_then(|p| wrap(ChunkKind::Finish(p))),
            "error" => ErrorPayload::deserialize(data)
                .ok()
                .and_then(|p| wrap(ChunkKind::Error(p))),
            _ => None,
        }
    }
}
