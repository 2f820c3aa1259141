//! The Inngest event, as sent to `/e/{key}` and received in Call Requests.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An event: `{id?, name, data, user?, ts?, v?}`. `data` is always an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub data: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Value>,
    /// Milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,
}

impl Event {
    /// An event named `name` with `data` (anything but an object becomes `{"value": data}`).
    pub fn new(name: impl Into<String>, data: Value) -> Self {
        let data = match data {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => Map::from_iter([("value".to_owned(), other)]),
        };
        Self {
            id: None,
            name: name.into(),
            data,
            user: None,
            ts: None,
            v: None,
        }
    }

    /// Sets the idempotency id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}
