//! A fast JSON writer for envelopes: the same bytes as `serde_json::to_string`, sooner.
//!
//! Every logged event is serialized once, on the publishing hot path, and most of that
//! work is string escaping. serde_json tests each byte of a string on its own; here eight
//! bytes are tested at once (one `u64`), and only a word that holds a byte needing an escape
//! goes byte by byte. Output is byte-identical to serde_json's compact form (checked by
//! the property tests below), so logs written either way are interchangeable.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde_json::Value;

use crate::Event;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is below 0x20, a `"` or a `\`. Each test is the
/// classic "has a zero byte" trick; it may flag extra bytes next to a real hit, never miss one.
fn escape_mask(word: u64) -> u64 {
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGHS
}

/// How many leading bytes of `bytes` surely need no escape (a multiple of 16).
fn clean_prefix(bytes: &[u8]) -> usize {
    let word = |half: &[u8]| {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(half);
        u64::from_le_bytes(eight)
    };
    bytes
        .chunks_exact(16)
        .take_while(|block| {
            let (low, high) = block.split_at(8);
            escape_mask(word(low)) | escape_mask(word(high)) == 0
        })
        .count()
        * 16
}

/// The escape serde_json writes for `byte`, if it needs one.
fn escape(byte: u8, out: &mut String) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.push_str("\\\""),
        b'\\' => out.push_str("\\\\"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        b'\t' => out.push_str("\\t"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        0x00..=0x1f => {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        _ => return false,
    }
    true
}

/// Appends `text` as a JSON string literal.
pub fn push_str_literal(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let bytes = text.as_bytes();
    // `clean` is where the run of bytes not yet copied starts; every escaped byte is ASCII,
    // so both ends of a copied run are char boundaries.
    let (mut clean, mut at) = (0, 0);
    while at < bytes.len() {
        at += clean_prefix(&bytes[at..]);
        // At most one block (or the tail) byte by byte, then back to whole blocks.
        let stop = (at + 16).min(bytes.len());
        while at < stop {
            let byte = bytes[at];
            if byte < 0x20 || byte == b'"' || byte == b'\\' {
                out.push_str(&text[clean..at]);
                escape(byte, out);
                clean = at + 1;
            }
            at += 1;
        }
    }
    out.push_str(&text[clean..]);
    out.push('"');
}

/// Appends `value` as compact JSON.
pub fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        // A number's Display is its JSON form (integers as such, floats as ryu writes them).
        Value::Number(number) => {
            let _ = write!(out, "{number}");
        }
        Value::String(text) => push_str_literal(out, text),
        Value::Array(items) => {
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                push_value(out, item);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (position, (key, item)) in fields.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                push_str_literal(out, key);
                out.push(':');
                push_value(out, item);
            }
            out.push('}');
        }
    }
}

/// Appends `event` as serde_json would serialize it (index first when set).
pub fn push_event(out: &mut String, event: &Event) {
    out.push('{');
    if let Some(index) = event.index {
        let _ = write!(out, "\"index\":{index},");
    }
    out.push_str("\"type\":");
    push_str_literal(out, event.kind.as_str());
    out.push_str(",\"runId\":");
    push_str_literal(out, &event.run_id);
    out.push_str(",\"data\":");
    push_value(out, &event.data);
    out.push_str(",\"id\":");
    push_str_literal(out, &event.id);
    out.push_str(",\"createdAt\":\"");
    push_created_at(out, &event.created_at);
    out.push('"');
    if let Some(attempt) = event.delivery_attempt {
        let _ = write!(out, ",\"deliveryAttempt\":{attempt}");
    }
    if let Some(generation) = event.generation {
        let _ = write!(out, ",\"generation\":{generation}");
    }
    out.push('}');
}

/// `createdAt` as `2026-11-29T16:00:00.000Z`, digit by digit for the years 0-9999.
fn push_created_at(out: &mut String, at: &DateTime<Utc>) {
    let year = at.year();
    let Ok(year) = u32::try_from(year) else {
        out.push_str(&crate::format_created_at(at));
        return;
    };
    if year > 9999 {
        out.push_str(&crate::format_created_at(at));
        return;
    }
    let digits = |out: &mut String, value: u32, width: u32| {
        for place in (0..width).rev() {
            let digit = (value / 10u32.pow(place)) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
    };
    digits(out, year, 4);
    out.push('-');
    digits(out, at.month(), 2);
    out.push('-');
    digits(out, at.day(), 2);
    out.push('T');
    digits(out, at.hour(), 2);
    out.push(':');
    digits(out, at.minute(), 2);
    out.push(':');
    digits(out, at.second(), 2);
    out.push('.');
    digits(out, at.timestamp_subsec_millis().min(999), 3);
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventType;
    use proptest::prelude::*;
    use serde_json::json;

    fn literal(text: &str) -> String {
        let mut out = String::new();
        push_str_literal(&mut out, text);
        out
    }

    #[test]
    fn strings_escape_as_serde_json_does() {
        for text in [
            "",
            "plain",
            "a \"quoted\" \\ back",
            "line\nfeed\r\ttab\u{8}\u{c}",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "ünïcødé → 日本語 🎉",
            "eight ch\"eight ch",
            "exactly8",
            "0123456789abcdef\n0123456789abcdef",
        ] {
            assert_eq!(
                literal(text),
                serde_json::to_string(text).unwrap(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn events_match_serde_json_field_for_field() {
        let event = Event::new(
            EventType::Chunk,
            "run-\"1\"",
            json!({"type": "text-delta", "n": [1, -2, 3.5, 1e300, null, true], "o": {"z": 1, "a": "\n"}}),
        );
        let mut out = String::new();
        push_event(&mut out, &event);
        assert_eq!(out, serde_json::to_string(&event).unwrap());
        let full = event
            .with_index(7)
            .with_generation(3)
            .with_delivery_attempt(2);
        out.clear();
        push_event(&mut out, &full);
        assert_eq!(out, serde_json::to_string(&full).unwrap());
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x7f]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_value_writes_as_serde_json_does(value in any_value()) {
            let mut out = String::new();
            push_value(&mut out, &value);
            prop_assert_eq!(out, serde_json::to_string(&value).unwrap());
        }

        #[test]
        fn any_time_writes_as_serde_json_does(millis in -62_000_000_000_000i64..253_402_300_799_999i64) {
            let at = DateTime::<Utc>::from_timestamp_millis(millis).unwrap();
            let event = Event::new(EventType::Chunk, "r", Value::Null).with_created_at(at);
            let mut out = String::new();
            push_event(&mut out, &event);
            prop_assert_eq!(out, serde_json::to_string(&event).unwrap());
        }
    }
}
