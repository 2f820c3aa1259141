//! Per-step deltas of a run's state. Inngest replays every memoized step output on every
//! Call Request, so a step returns only what it changed: new messages and steps are
//! appended, text is extended, small fields are set.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How one field changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum FieldDelta {
    /// Items added at the end of an array.
    Append(Vec<Value>),
    /// Text added at the end of a string.
    AppendText(String),
    /// A new value (`null` for a field that went away).
    Set(Value),
}

/// The changed top-level fields of a JSON object.
pub(crate) type Delta = Map<String, Value>;

/// What turns `before` into `after` (both JSON objects).
pub(crate) fn diff(before: &Value, after: &Value) -> Delta {
    let empty = Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut delta = Map::new();
    for (key, new) in after {
        let change = match before.get(key) {
            Some(old) if old == new => continue,
            Some(Value::Array(old)) => match new {
                Value::Array(items) if items.starts_with(old) => {
                    FieldDelta::Append(items[old.len()..].to_vec())
                }
                _ => FieldDelta::Set(new.clone()),
            },
            Some(Value::String(old)) => match new {
                Value::String(text) if text.starts_with(old.as_str()) => {
                    FieldDelta::AppendText(text[old.len()..].to_owned())
                }
                _ => FieldDelta::Set(new.clone()),
            },
            _ => FieldDelta::Set(new.clone()),
        };
        if let Ok(change) = serde_json::to_value(change) {
            delta.insert(key.clone(), change);
        }
    }
    for key in before.keys().filter(|k| !after.contains_key(*k)) {
        if let Ok(change) = serde_json::to_value(FieldDelta::Set(Value::Null)) {
            delta.insert(key.clone(), change);
        }
    }
    delta
}

/// Applies `delta` to `state` (a JSON object).
pub(crate) fn apply(state: &mut Value, delta: &Delta) -> Result<(), serde_json::Error> {
    let Value::Object(state) = state else {
        return Ok(());
    };
    for (key, change) in delta {
        match serde_json::from_value::<FieldDelta>(change.clone())? {
            FieldDelta::Append(items) => match state.get_mut(key) {
                Some(Value::Array(existing)) => existing.extend(items),
                _ => {
                    state.insert(key.clone(), Value::Array(items));
                }
            },
            FieldDelta::AppendText(text) => match state.get_mut(key) {
                Some(Value::String(existing)) => existing.push_str(&text),
                _ => {
                    state.insert(key.clone(), Value::String(text));
                }
            },
            FieldDelta::Set(Value::Null) => {
                state.remove(key);
            }
            FieldDelta::Set(value) => {
                state.insert(key.clone(), value);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_delta_carries_only_what_changed_and_rebuilds_the_state() {
        let history: Vec<Value> = (0..50)
            .map(|i| json!({"role": "user", "text": i}))
            .collect();
        let before = json!({"runId": "r", "messages": history, "text": "Hello", "pending": {"a": 1}, "usage": 1});
        let mut messages = history.clone();
        messages.push(json!({"role": "assistant", "text": "new"}));
        let after = json!({"runId": "r", "messages": messages, "text": "Hello world", "usage": 2});
        let delta = diff(&before, &after);
        assert_eq!(
            Value::Object(delta.clone()),
            json!({
                "messages": {"append": [{"role": "assistant", "text": "new"}]},
                "text": {"appendText": " world"},
                "usage": {"set": 2},
                "pending": {"set": null},
            })
        );
        let mut rebuilt = before.clone();
        apply(&mut rebuilt, &delta).unwrap();
        assert_eq!(rebuilt, after);
    }

    #[test]
    fn rewritten_fields_are_set_whole() {
        let before = json!({"messages": [1, 2, 3], "text": "abc"});
        let after = json!({"messages": [1, 9], "text": "xyz", "started": true});
        let delta = diff(&before, &after);
        let mut rebuilt = before.clone();
        apply(&mut rebuilt, &delta).unwrap();
        assert_eq!(rebuilt, after);
    }
}
