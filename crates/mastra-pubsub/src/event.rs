//! The event envelope of wire-contract §2: what a run's log holds and what observers receive.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One event of a run, exactly as it is cached and sent by `observe`.
///
/// Field order is the wire order: `index` first (omitted until the log assigns it), then
/// `type`, `runId`, `data`, `id`, `createdAt`, and the optional `deliveryAttempt` and
/// `generation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Event {
    /// Position of the event in its run's log (0-based); `None` for events that bypass the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The run the event belongs to.
    pub run_id: String,
    /// Type-specific payload (wire-contract §2).
    pub data: serde_json::Value,
    /// Unique id of the event (a UUID).
    pub id: String,
    /// When the event was created, serialized as `2026-11-29T16:00:00.000Z`.
    #[serde(with = "created_at")]
    pub created_at: DateTime<Utc>,
    /// How many times a group consumer has been handed this event (1 on first delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_attempt: Option<u32>,
    /// Run-ownership generation of the executor that produced the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
}

impl Event {
    /// A new event with a fresh UUID, created now, with no index yet.
    pub fn new(
        kind: impl Into<EventType>,
        run_id: impl Into<String>,
        data: serde_json::Value,
    ) -> Self {
        Self {
            index: None,
            kind: kind.into(),
            run_id: run_id.into(),
            data,
            id: new_id(),
            created_at: Utc::now(),
            delivery_attempt: None,
            generation: None,
        }
    }

    /// The same event with its log position set.
    pub fn with_index(mut self, index: u64) -> Self {
        self.index = Some(index);
        self
    }

    /// The same event with an explicit id (ids are stable across replay).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The same event with an explicit creation time.
    pub fn with_created_at(mut self, created_at: DateTime<Utc>) -> Self {
        self.created_at = created_at;
        self
    }

    /// The same event stamped with the producing executor's ownership generation.
    pub fn with_generation(mut self, generation: u64) -> Self {
        self.generation = Some(generation);
        self
    }

    /// The same event with a delivery attempt count.
    pub fn with_delivery_attempt(mut self, attempt: u32) -> Self {
        self.delivery_attempt = Some(attempt);
        self
    }

    /// The event as compact JSON: the bytes `serde_json::to_string` gives, written by
    /// [`json::push_event`](crate::json::push_event) (several times faster on long strings).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        crate::json::push_event(&mut out, self);
        out
    }

    /// Appends the event as compact JSON to `out` (see [`to_json`](Self::to_json)).
    pub fn write_json(&self, out: &mut String) {
        crate::json::push_event(out, self);
    }

    /// Whether this event ends its run's stream (`finish`, `error` or `abort`).
    pub fn is_terminal(&self) -> bool {
        self.kind.is_terminal()
    }
}

/// A fresh UUID (v4) as its hyphenated lowercase text, written without `fmt` (this runs
/// for every published event).
fn new_id() -> String {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid::Uuid::new_v4()
        .hyphenated()
        .encode_lower(&mut text)
        .to_owned()
}

/// The `type` of an [`Event`]. Types this crate does not know round-trip through [`EventType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// `chunk`: one streamed chunk of the model output.
    Chunk,
    /// `step-start`
    StepStart,
    /// `step-finish`
    StepFinish,
    /// `finish`: the run ended normally (terminal).
    Finish,
    /// `error`: the run failed (terminal).
    Error,
    /// `suspended`: the run waits for approval or resume data (not terminal).
    Suspended,
    /// `abort`: the run was aborted (terminal).
    Abort,
    /// `iteration-complete`
    IterationComplete,
    /// `ownership-claimed`: an executor claimed the run; carries `generation`.
    OwnershipClaimed,
    /// Any other type, kept verbatim (e.g. `workflow.start` on the `workflows` topic).
    Other(String),
}

impl EventType {
    /// The wire spelling of the type.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Chunk => "chunk",
            Self::StepStart => "step-start",
            Self::StepFinish => "step-finish",
            Self::Finish => "finish",
            Self::Error => "error",
            Self::Suspended => "suspended",
            Self::Abort => "abort",
            Self::IterationComplete => "iteration-complete",
            Self::OwnershipClaimed => "ownership-claimed",
            Self::Other(other) => other,
        }
    }

    /// Whether an event of this type ends the run's stream.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Finish | Self::Error | Self::Abort)
    }
}

impl From<&str> for EventType {
    fn from(value: &str) -> Self {
        match value {
            "chunk" => Self::Chunk,
            "step-start" => Self::StepStart,
            "step-finish" => Self::StepFinish,
            "finish" => Self::Finish,
            "error" => Self::Error,
            "suspended" => Self::Suspended,
            "abort" => Self::Abort,
            "iteration-complete" => Self::IterationComplete,
            "ownership-claimed" => Self::OwnershipClaimed,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl From<String> for EventType {
    fn from(value: String) -> Self {
        match Self::from(value.as_str()) {
            Self::Other(_) => Self::Other(value),
            known => known,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::from(raw.as_ref()))
    }
}

/// `createdAt` as JavaScript's `Date.toISOString()` writes it: millisecond precision, `Z`.
mod created_at {
    use std::fmt;

    use chrono::{DateTime, Datelike, Timelike, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the timestamp straight into the output: this runs once per published event.
    pub(super) struct Iso8601Millis<'a>(pub(super) &'a DateTime<Utc>);

    impl fmt::Display for Iso8601Millis<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let at = self.0;
            let year = at.year();
            if (0..=9999).contains(&year) {
                write!(
                    f,
                    "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                    at.month(),
                    at.day(),
                    at.hour(),
                    at.minute(),
                    at.second(),
                    at.timestamp_subsec_millis().min(999),
                )
            } else {
                // Extended years, as JavaScript writes them (rare enough to take the slow path).
                f.write_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            }
        }
    }

    pub(super) fn serialize<S: Serializer>(
        at: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&Iso8601Millis(at))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let raw = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|at| at.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// Formats a time the way `createdAt` is written on the wire.
pub fn format_created_at(at: &DateTime<Utc>) -> String {
    created_at::Iso8601Millis(at).to_string()
}
