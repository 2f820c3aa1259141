//! Chunks: what an agent run streams, serialized exactly as upstream's `ChunkType`
//! (`{type, runId, from, payload, metadata?}`, wire-contract §3).
//!
//! ```
//! use mastra_core::chunk::{Chunk, ChunkKind, DeltaPayload};
//!
//! let chunk = Chunk::agent("run-1", ChunkKind::TextDelta(DeltaPayload {
//!     id: "t1".into(), text: "Hi".into(), provider_metadata: None,
//! }));
//! let json = serde_json::to_string(&chunk).unwrap();
//! assert_eq!(json, r#"{"type":"text-delta","runId":"run-1","from":"AGENT","payload":{"id":"t1","text":"Hi"}}"#);
//! assert_eq!(serde_json::from_str::<Chunk>(&json).unwrap(), chunk);
//! ```

mod envelope;
mod payload;

pub use payload::*;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// Who produced a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChunkFrom {
    #[default]
    Agent,
    User,
    System,
    Workflow,
    Network,
}

/// One streamed chunk of an agent run.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub run_id: String,
    pub from: ChunkFrom,
    pub kind: ChunkKind,
    pub metadata: Option<Value>,
}

impl Chunk {
    /// A chunk produced by an agent.
    pub fn agent(run_id: impl Into<String>, kind: ChunkKind) -> Self {
        Self {
            run_id: run_id.into(),
            from: ChunkFrom::Agent,
            kind,
            metadata: None,
        }
    }

    /// The wire `type` of this chunk.
    pub fn type_name(&self) -> Cow<'_, str> {
        self.kind.type_name()
    }

    /// Whether this chunk ends a run's stream (`finish`, `error` or `abort`).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.kind,
            ChunkKind::Finish(_) | ChunkKind::Error(_) | ChunkKind::Abort(_)
        )
    }
}

/// Declares the chunk kinds once: the enum, the wire names and both serde directions.
macro_rules! chunk_kinds {
    ($($(#[$doc:meta])* $variant:ident($payload:ty) = $wire:literal,)*) => {
        /// The `type` of a chunk together with its `payload`.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum ChunkKind {
            $($(#[$doc])* $variant($payload),)*
            /// `data-<name>`: a custom data part.
            Data(DataPayload),
            /// A type this version does not know, kept as it came so that it round-trips.
            Unknown { type_name: String, payload: Value },
        }

        impl ChunkKind {
            /// The wire `type`.
            pub fn type_name(&self) -> Cow<'_, str> {
                match self {
                    $(Self::$variant(_) => Cow::Borrowed($wire),)*
                    Self::Data(data) => Cow::Owned(format!("data-{}", data.name)),
                    Self::Unknown { type_name, .. } => Cow::Borrowed(type_name),
                }
            }

            fn serialize_payload<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                match self {
                    $(Self::$variant(payload) => map.serialize_entry("payload", payload),)*
                    Self::Data(data) => map.serialize_entry("payload", &DataWire {
                        kind: &format!("data-{}", data.name),
                        data: &data.data,
                        id: data.id.as_deref(),
                    }),
                    Self::Unknown { payload, .. } => map.serialize_entry("payload", payload),
                }
            }

            fn from_wire(type_name: String, payload: Value) -> Result<Self, serde_json::Error> {
                match type_name.as_str() {
                    $($wire => serde_json::from_value(payload).map(Self::$variant),)*
                    other => match other.strip_prefix("data-") {
                        Some(name) => {
                            let wire: DataWireOwned = serde_json::from_value(payload)?;
                            Ok(Self::Data(DataPayload { name: name.to_owned(), data: wire.data, id: wire.id }))
                        }
                        None => Ok(Self::Unknown { type_name, payload }),
                    },
                }
            }
        }
    };
}

chunk_kinds! {
    Start(StartPayload) = "start",
    StepStart(StepStartPayload) = "step-start",
    TextStart(BoundaryPayload) = "text-start",
    TextDelta(DeltaPayload) = "text-delta",
    TextEnd(BoundaryPayload) = "text-end",
    ReasoningStart(BoundaryPayload) = "reasoning-start",
    ReasoningDelta(DeltaPayload) = "reasoning-delta",
    ReasoningEnd(BoundaryPayload) = "reasoning-end",
    ToolCallInputStreamingStart(ToolInputPayload) = "tool-call-input-streaming-start",
    ToolCallDelta(ToolInputPayload) = "tool-call-delta",
    ToolCallInputStreamingEnd(ToolInputPayload) = "tool-call-input-streaming-end",
    ToolCall(ToolCallPayload) = "tool-call",
    ToolResult(ToolResultPayload) = "tool-result",
    ToolError(ToolErrorPayload) = "tool-error",
    ToolCallApproval(ToolApprovalPayload) = "tool-call-approval",
    ToolCallSuspended(ToolSuspendedPayload) = "tool-call-suspended",
    StepFinish(StepFinishPayload) = "step-finish",
    Finish(FinishPayload) = "finish",
    Error(ErrorPayload) = "error",
    Abort(AbortPayload) = "abort",
    Tripwire(TripwirePayload) = "tripwire",
}

#[derive(Serialize)]
struct DataWire<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    data: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

#[derive(Deserialize)]
struct DataWireOwned {
    #[serde(default)]
    data: Value,
    #[serde(default)]
    id: Option<String>,
}

impl Serialize for Chunk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", &self.kind.type_name())?;
        map.serialize_entry("runId", &self.run_id)?;
        map.serialize_entry("from", &self.from)?;
        self.kind.serialize_payload(&mut map)?;
        if let Some(metadata) = &self.metadata {
            map.serialize_entry("metadata", metadata)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Chunk {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            #[serde(rename = "type")]
            kind: String,
            // Upstream's durable `finish` chunk omits `runId` and `from`.
            #[serde(default)]
            run_id: String,
            #[serde(default)]
            from: ChunkFrom,
            #[serde(default)]
            payload: Value,
            #[serde(default)]
            metadata: Option<Value>,
        }
        let wire = Wire::deserialize(deserializer)?;
        let payload = match wire.payload {
            Value::Null => Value::Object(Default::default()),
            other => other,
        };
        let kind = ChunkKind::from_wire(wire.kind, payload).map_err(serde::de::Error::custom)?;
        Ok(Chunk {
            run_id: wire.run_id,
            from: wire.from,
            kind,
            metadata: wire.metadata,
        })
    }
}
