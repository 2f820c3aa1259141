//! `GET /api/metrics`: the process's durable-run counters in the Prometheus text format
//! (beyond upstream, which has no such route). Behind the same bearer tokens as the rest
//! of `/api`.

use super::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use mastra_durable::engine::DurableMetrics;
use std::fmt::Write as _;

pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        exposition(&state.mastra.metrics()),
    )
}

/// The counters as Prometheus exposition text.
fn exposition(metrics: &DurableMetrics) -> String {
    let rows: [(&str, &str, &str, u64); 6] = [
        (
            "mastra_active_runs",
            "gauge",
            "Runs whose steps execute in this process now.",
            metrics.active_runs,
        ),
        (
            "mastra_observers",
            "gauge",
            "Run streams open now (callers' streams and observers).",
            metrics.observers,
        ),
        (
            "mastra_events_appended_total",
            "counter",
            "Events written to a run log.",
            metrics.events_appended,
        ),
        (
            "mastra_events_published_total",
            "counter",
            "Events written to live-only run channels.",
            metrics.events_published,
        ),
        (
            "mastra_observer_joins_total",
            "counter",
            "Observers that joined a logged run from an offset.",
            metrics.observer_joins,
        ),
        (
            "mastra_replay_lag_events_total",
            "counter",
            "Events those observers replayed from the log before reaching the live end.",
            metrics.replay_lag_events,
        ),
    ];
    let mut out = String::with_capacity(1024);
    for (name, kind, help, value) in rows {
        // Writing into a String cannot fail.
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_is_one_typed_sample() {
        let text = exposition(&DurableMetrics::default());
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(samples.len(), 6);
        assert!(samples.iter().all(|s| s.ends_with(" 0")));
        assert_eq!(text.matches("# TYPE ").count(), 6);
        assert!(text.contains("# TYPE mastra_events_appended_total counter\n"));
    }
}
