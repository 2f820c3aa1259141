//! `RunAssembly`: what a run's events add up to (text, reasoning, tool calls and results),
//! consistent across a crash of the worker executing the run.
//!
//! When the evented engine re-runs a step after a crash, the new owner first logs an
//! `ownership-claimed` envelope `{generation, voidFrom, step}` (docs/crash-recovery.md):
//! what the events with `voidFrom <= index <` its own index contributed belongs to the
//! interrupted attempt and is streamed again, so it is dropped here; and from then on,
//! events of an older generation are stale and ignored. The text assembled after a crash
//! and recovery is therefore the text of a run without one.

use crate::envelope::envelope_chunk;
use mastra_core::{Chunk, ChunkFrom, ChunkKind};
use mastra_pubsub::{Event, EventType};
use serde_json::Value;

/// The wire type of the ownership-claimed envelope, and of the chunk `/stream` relays it as.
pub const OWNERSHIP_CLAIMED: &str = "ownership-claimed";

/// A new owner's announcement that it re-runs a step (the `data` of `ownership-claimed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnershipClaim {
    /// The new owner's generation: events of older generations are stale from now on.
    pub generation: Option<u64>,
    /// The first index whose contribution is void; `None` on a channel without a log.
    pub void_from: Option<u64>,
    /// The number of completed engine steps (the step being re-run).
    pub step: Option<u64>,
}

impl OwnershipClaim {
    /// The claim an `ownership-claimed` envelope carries (`None` for any other envelope).
    pub fn from_event(event: &Event) -> Option<Self> {
        if event.kind != EventType::OwnershipClaimed {
            return None;
        }
        let mut claim = Self::from_payload(&event.data);
        claim.generation = claim.generation.or(event.generation);
        Some(claim)
    }

    /// The claim an `ownership-claimed` chunk carries (`None` for any other chunk).
    pub fn from_chunk(chunk: &Chunk) -> Option<Self> {
        match &chunk.kind {
            ChunkKind::Unknown { type_name, payload } if type_name == OWNERSHIP_CLAIMED => {
                Some(Self::from_payload(payload))
            }
            _ => None,
        }
    }

    fn from_payload(data: &Value) -> Self {
        let number = |name: &str| data.get(name).and_then(Value::as_u64);
        Self {
            generation: number("generation"),
            void_from: number("voidFrom"),
            step: number("step"),
        }
    }

    /// The claim as the chunk `/stream` carries it (type `ownership-claimed`, from `SYSTEM`).
    pub fn to_chunk(&self, run_id: &str) -> Chunk {
        let mut payload = serde_json::Map::new();
        let mut put = |name: &str, value: Option<u64>| {
            payload.insert(name.to_owned(), value.map_or(Value::Null, Value::from));
        };
        put("generation", self.generation);
        put("voidFrom", self.void_from);
        put("step", self.step);
        Chunk {
            run_id: run_id.to_owned(),
            from: ChunkFrom::System,
            kind: ChunkKind::Unknown {
                type_name: OWNERSHIP_CLAIMED.to_owned(),
                payload: Value::Object(payload),
            },
            metadata: None,
        }
    }
}

/// What [`RunAssembly::push`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Its chunk was kept.
    Kept,
    /// It carries nothing to assemble (`start`, `suspended`, lifecycle events).
    Nothing,
    /// Its generation is older than one already seen: stale, ignored.
    Stale,
    /// An ownership claim; `voided` kept chunks were dropped.
    Claimed { voided: usize },
}

/// The chunks of a run that count, in order, with their event indices.
#[derive(Debug, Clone, Default)]
pub struct RunAssembly {
    chunks: Vec<(Option<u64>, Chunk)>,
    generation: Option<u64>,
    claims: usize,
}

impl RunAssembly {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one envelope (wire-contract §2, plus `ownership-claimed`).
    pub fn push(&mut self, event: &Event) -> Applied {
        if let (Some(generation), Some(seen)) = (event.generation, self.generation) {
            if generation < seen {
                return Applied::Stale;
            }
        }
        if let Some(claim) = OwnershipClaim::from_event(event) {
            return self.claim(&claim, event.index);
        }
        self.generation = self.generation.max(event.generation);
        match envelope_chunk(event) {
            Some(chunk) => {
                self.chunks.push((event.index, chunk));
                Applied::Kept
            }
            None => Applied::Nothing,
        }
    }

    /// Applies one chunk received at event index `index` (on `/stream`, the number of
    /// chunks before it); an `ownership-claimed` chunk voids as its envelope would.
    pub fn push_chunk(&mut self, index: Option<u64>, chunk: Chunk) -> Applied {
        match OwnershipClaim::from_chunk(&chunk) {
            Some(claim) => {
                if let (Some(generation), Some(seen)) = (claim.generation, self.generation) {
                    if generation < seen {
                        return Applied::Stale;
                    }
                }
                self.claim(&claim, index)
            }
            None => {
                self.chunks.push((index, chunk));
                Applied::Kept
            }
        }
    }

    /// Drops the contributions of `claim.void_from <= index < at`.
    fn claim(&mut self, claim: &OwnershipClaim, at: Option<u64>) -> Applied {
        self.generation = self.generation.max(claim.generation);
        self.claims += 1;
        let Some(from) = claim.void_from else {
            return Applied::Claimed { voided: 0 };
        };
        let before = self.chunks.len();
        self.chunks.retain(|(index, _)| match index {
            Some(index) => *index < from || at.is_some_and(|at| *index > at),
            None => true,
        });
        Applied::Claimed {
            voided: before - self.chunks.len(),
        }
    }

    /// The kept chunks, in order.
    pub fn chunks(&self) -> impl Iterator<Item = &Chunk> {
        self.chunks.iter().map(|(_, chunk)| chunk)
    }

    /// The text of the kept `text-delta` chunks.
    pub fn text(&self) -> String {
        self.chunks()
            .filter_map(|chunk| match &chunk.kind {
                ChunkKind::TextDelta(delta) => Some(delta.text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The text of the kept `reasoning-delta` chunks.
    pub fn reasoning(&self) -> String {
        self.chunks()
            .filter_map(|chunk| match &chunk.kind {
                ChunkKind::ReasoningDelta(delta) => Some(delta.text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The newest ownership generation seen.
    pub fn generation(&self) -> Option<u64> {
        self.generation
    }

    /// How many ownership claims were applied (re-run steps).
    pub fn claims(&self) -> usize {
        self.claims
    }

    /// Whether a terminal chunk (`finish`, `error`, `abort`) was kept.
    pub fn is_finished(&self) -> bool {
        self.chunks().any(Chunk::is_terminal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mastra_core::chunk::DeltaPayload;
    use serde_json::json;

    fn delta(index: u64, generation: Option<u64>, text: &str) -> Event {
        let chunk = Chunk::agent(
            "r",
            ChunkKind::TextDelta(DeltaPayload {
                id: "t".into(),
                text: text.into(),
                provider_metadata: None,
            }),
        );
        let mut event = Event::new(EventType::Chunk, "r", serde_json::to_value(&chunk).unwrap());
        event.index = Some(index);
        event.generation = generation;
        event
    }

    fn claimed(index: u64, generation: u64, void_from: Option<u64>) -> Event {
        let data = json!({"generation": generation, "voidFrom": void_from, "step": 0});
        let mut event = Event::new(EventType::OwnershipClaimed, "r", data);
        event.index = Some(index);
        event.generation = Some(generation);
        event
    }

    /// A model step counting "1 2 3", crashing after "1 2", re-run by generation 2.
    fn crashed_run() -> Vec<Event> {
        vec![
            delta(1, Some(1), "1"),
            delta(2, Some(1), " 2"),
            claimed(3, 2, Some(1)),
            delta(4, Some(2), "1"),
            // The stopped first owner wakes up and writes once more before it notices.
            delta(5, Some(1), " 3"),
            delta(6, Some(2), " 2"),
            delta(7, Some(2), " 3"),
        ]
    }

    #[test]
    fn a_claim_voids_the_interrupted_attempt_and_older_generations() {
        let mut assembly = RunAssembly::new();
        let applied: Vec<Applied> = crashed_run().iter().map(|e| assembly.push(e)).collect();
        assert_eq!(applied[2], Applied::Claimed { voided: 2 });
        assert_eq!(applied[4], Applied::Stale);
        assert_eq!(assembly.text(), "1 2 3");
        assert_eq!(assembly.generation(), Some(2));
        assert_eq!(assembly.claims(), 1);
    }

    #[test]
    fn without_a_claim_everything_counts() {
        let mut assembly = RunAssembly::new();
        for (i, text) in ["1", " 2", " 3"].into_iter().enumerate() {
            assert_eq!(
                assembly.push(&delta(i as u64 + 1, None, text)),
                Applied::Kept
            );
        }
        assert_eq!(assembly.text(), "1 2 3");
        assert!(!assembly.is_finished());
    }

    #[test]
    fn a_claim_without_a_log_voids_nothing() {
        let mut assembly = RunAssembly::new();
        assembly.push(&delta(1, Some(1), "1"));
        let mut claim = claimed(2, 2, None);
        claim.index = None;
        assert_eq!(assembly.push(&claim), Applied::Claimed { voided: 0 });
        assert_eq!(assembly.text(), "1");
    }

    #[test]
    fn the_claim_parses_from_literal_json_and_round_trips_as_a_chunk() {
        let event: Event = serde_json::from_str(
            r#"{"index":23,"type":"ownership-claimed","runId":"r","data":{"generation":3,"voidFrom":17,"step":4},"id":"e","createdAt":"2026-11-29T16:00:00.000Z","generation":3}"#,
        )
        .unwrap();
        let claim = OwnershipClaim::from_event(&event).unwrap();
        assert_eq!(
            claim,
            OwnershipClaim {
                generation: Some(3),
                void_from: Some(17),
                step: Some(4)
            }
        );
        let chunk = claim.to_chunk("r");
        assert_eq!(
            serde_json::to_value(&chunk).unwrap(),
            json!({"type":"ownership-claimed","runId":"r","from":"SYSTEM",
                   "payload":{"generation":3,"voidFrom":17,"step":4}})
        );
        let parsed: Chunk = serde_json::from_value(serde_json::to_value(&chunk).unwrap()).unwrap();
        assert_eq!(OwnershipClaim::from_chunk(&parsed), Some(claim));
        assert_eq!(OwnershipClaim::from_event(&delta(1, None, "x")), None);
    }

    #[test]
    fn chunks_counted_on_stream_void_like_envelopes() {
        // What `/stream` sends for the crashed run (stale events are dropped by the server).
        let mut assembly = RunAssembly::new();
        let mut index = 0;
        for event in crashed_run() {
            if event.generation == Some(1) && index > 3 {
                continue;
            }
            let chunk = match OwnershipClaim::from_event(&event) {
                Some(claim) => claim.to_chunk("r"),
                None => envelope_chunk(&event).unwrap(),
            };
            index = event.index.unwrap();
            assembly.push_chunk(Some(index), chunk);
        }
        assert_eq!(assembly.text(), "1 2 3");
    }
}
