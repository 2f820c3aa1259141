//! A run's trace context, carried in its [`RunState`](super::RunState) so that every stretch
//! of the run (the first one, each one after a resume, a recovery, or in another process)
//! joins one trace.
//!
//! The context is a W3C `traceparent` string (`00-<trace id>-<parent span id>-<flags>`), so no
//! tracing backend's type appears here. Every run span (`agent.run`, `agent.model_step`,
//! `agent.tool_call`) carries it in its `traceparent` field. A backend that understands it
//! (`mastra-otel`) installs [`TraceHooks`] once: `follow` places a new run span in the run's
//! trace, and `current` lets a new run start inside the caller's trace.

use std::sync::OnceLock;
use tracing::Span;

/// What a tracing backend plugs in (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct TraceHooks {
    /// Called with each new run span, before it is entered, and the run's traceparent.
    pub follow: fn(&Span, &str),
    /// The caller's trace context as a traceparent, if there is one.
    pub current: fn() -> Option<String>,
}

static HOOKS: OnceLock<TraceHooks> = OnceLock::new();

/// Installs the backend's hooks; `false` when hooks were installed already (they stay).
pub fn install_hooks(hooks: TraceHooks) -> bool {
    HOOKS.set(hooks).is_ok()
}

/// The trace context of a new run: the caller's, when a backend reports one, else a fresh
/// random trace (its parent span id names the run's trace root, which no span reports).
pub fn new_traceparent() -> String {
    if let Some(current) = HOOKS.get().and_then(|hooks| (hooks.current)()) {
        return current;
    }
    let trace = uuid::Uuid::new_v4();
    let span = uuid::Uuid::new_v4();
    let mut span_id = span.simple().to_string();
    span_id.truncate(16);
    format!("00-{}-{span_id}-01", trace.simple())
}

/// Places `span` in the trace `traceparent` names, if a backend is installed. Call it right
/// after creating a run span, before the span is entered.
pub fn follow(span: &Span, traceparent: Option<&str>) {
    if span.is_disabled() {
        return;
    }
    if let (Some(hooks), Some(traceparent)) = (HOOKS.get(), traceparent) {
        (hooks.follow)(span, traceparent);
    }
}

/// Whether `text` is a well-formed version-00 `traceparent` with non-zero ids.
pub fn is_valid_traceparent(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let non_zero = |s: &str| s.bytes().any(|b| b != b'0');
    matches!(parts.as_slice(), [version, trace, span, flags]
        if *version == "00" && hex(trace, 32) && non_zero(trace) && hex(span, 16)
            && non_zero(span) && hex(flags, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_trace_contexts_are_valid_and_distinct() {
        let (a, b) = (new_traceparent(), new_traceparent());
        assert!(is_valid_traceparent(&a), "{a}");
        assert!(is_valid_traceparent(&b), "{b}");
        assert_ne!(a[3..35], b[3..35]);
    }

    #[test]
    fn malformed_trace_contexts_are_refused() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(is_valid_traceparent(good));
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert!(!is_valid_traceparent(bad), "{bad}");
        }
    }
}
