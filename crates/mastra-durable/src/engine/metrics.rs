//! Process-wide counters of durable runs: relaxed atomics, one add per event at most, read
//! as a [`DurableMetrics`] snapshot ([`snapshot`], or [`Mastra::metrics`](crate::Mastra::metrics)).

use std::sync::atomic::{AtomicU64, Ordering};

static ACTIVE_RUNS: AtomicU64 = AtomicU64::new(0);
static EVENTS_APPENDED: AtomicU64 = AtomicU64::new(0);
static EVENTS_PUBLISHED: AtomicU64 = AtomicU64::new(0);
static OBSERVERS: AtomicU64 = AtomicU64::new(0);
static OBSERVER_JOINS: AtomicU64 = AtomicU64::new(0);
static REPLAY_LAG_EVENTS: AtomicU64 = AtomicU64::new(0);

/// The counters of this process at one moment (each read on its own: they need not agree
/// with each other to the event).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DurableMetrics {
    /// Runs whose steps execute in this process right now (a paused or queued run is not
    /// active; an evented run is active while a worker here takes one of its steps).
    pub active_runs: u64,
    /// Events written to a run log (they got an index), since the process started.
    pub events_appended: u64,
    /// Events written to live-only run channels (no log), since the process started.
    pub events_published: u64,
    /// Run streams open right now (callers' streams and observers).
    pub observers: u64,
    /// Observers that joined a logged run from an offset ([`DurableAgent::observe`](crate::DurableAgent::observe)).
    pub observer_joins: u64,
    /// Over those joins, the events they had to replay from the log before reaching the
    /// live end (the log's length minus the offset, when they joined). Divided by
    /// `observer_joins`, the mean replay lag.
    pub replay_lag_events: u64,
}

/// The counters now.
pub fn snapshot() -> DurableMetrics {
    let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    DurableMetrics {
        active_runs: read(&ACTIVE_RUNS),
        events_appended: read(&EVENTS_APPENDED),
        events_published: read(&EVENTS_PUBLISHED),
        observers: read(&OBSERVERS),
        observer_joins: read(&OBSERVER_JOINS),
        replay_lag_events: read(&REPLAY_LAG_EVENTS),
    }
}

/// Counts a run as active while it is held (engines hold one while they take its steps).
#[derive(Debug)]
pub struct ActiveRun(());

impl ActiveRun {
    pub fn start() -> Self {
        ACTIVE_RUNS.fetch_add(1, Ordering::Relaxed);
        Self(())
    }
}

impl Drop for ActiveRun {
    fn drop(&mut self) {
        ACTIVE_RUNS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts an open run stream while it is held.
#[derive(Debug)]
pub(crate) struct OpenObserver(());

impl OpenObserver {
    pub(crate) fn open() -> Self {
        OBSERVERS.fetch_add(1, Ordering::Relaxed);
        Self(())
    }
}

impl Drop for OpenObserver {
    fn drop(&mut self) {
        OBSERVERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One event written: `logged` when it got an index in a run log.
pub(crate) fn event_written(logged: bool) {
    match logged {
        true => EVENTS_APPENDED.fetch_add(1, Ordering::Relaxed),
        false => EVENTS_PUBLISHED.fetch_add(1, Ordering::Relaxed),
    };
}

/// An observer joined a logged run `lag` events behind its live end.
pub(crate) fn observer_joined(lag: u64) {
    OBSERVER_JOINS.fetch_add(1, Ordering::Relaxed);
    REPLAY_LAG_EVENTS.fetch_add(lag, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    // Other tests of this crate move the same counters concurrently, so this one checks
    // only what they cannot undo: monotonic counters grow by at least what it added, and
    // its own guards are counted while held. The exact figures are checked by
    // `tests/metrics.rs`, a test binary of its own.
    #[test]
    fn counters_move() {
        let before = snapshot();
        event_written(true);
        event_written(false);
        observer_joined(7);
        let run = ActiveRun::start();
        let observer = OpenObserver::open();
        let during = snapshot();
        assert!(during.events_appended > before.events_appended);
        assert!(during.events_published > before.events_published);
        assert!(during.observer_joins > before.observer_joins);
        assert!(during.replay_lag_events >= before.replay_lag_events + 7);
        assert!(during.active_runs >= 1);
        assert!(during.observers >= 1);
        drop((run, observer));
    }
}
