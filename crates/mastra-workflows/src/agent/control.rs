//! Control-topic subscriptions kept between the steps of a run. Every step listens on its
//! run's control topic (for aborts) before it loads the state; consecutive steps of a run
//! mostly run in the same instance, so the listener of a step that queued a successor is
//! kept for a moment: the successor's subscription then finds the topic already
//! subscribed (no `SUBSCRIBE` / `UNSUBSCRIBE` round trips on a Redis transport), and the
//! topic stays subscribed in between. Correctness does not depend on it: an abort
//! requested while nobody listens is in the stored record, which every step reads after
//! subscribing.

use super::{lock, EventedEngine, Inner};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a finished step's listener is kept for the run's next step.
const KEEP_FOR: Duration = Duration::from_secs(1);

/// A step's abort listener (it owns the control-topic subscription).
pub(super) type Listener = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Listeners kept for the next step of their run, by run id.
#[derive(Default)]
pub(super) struct KeptListeners {
    kept: Mutex<HashMap<String, (u64, Listener)>>,
    next: AtomicU64,
}

impl EventedEngine {
    /// Keeps `listener` for the run's next step, for [`KEEP_FOR`] at most.
    pub(super) fn keep_listener(&self, run_id: &str, listener: Listener) {
        let listeners = &self.inner.listeners;
        let token = listeners.next.fetch_add(1, Ordering::Relaxed);
        let replaced = lock(&listeners.kept).insert(run_id.to_owned(), (token, listener));
        drop(replaced);
        let inner = Arc::downgrade(&self.inner);
        let run_id = run_id.to_owned();
        tokio::spawn(async move {
            tokio::time::sleep(KEEP_FOR).await;
            if let Some(inner) = inner.upgrade() {
                drop(take_kept(&inner, &run_id, Some(token)));
            }
        });
    }

    /// Drops the listener kept for the run (its step now has its own, or the run ended).
    pub(super) fn drop_kept_listener(&self, run_id: &str) {
        drop(take_kept(&self.inner, run_id, None));
    }
}

/// Takes the run's kept listener out (only the one of `token`, when given), so that it is
/// dropped outside the lock.
fn take_kept(inner: &Inner, run_id: &str, token: Option<u64>) -> Option<Listener> {
    let mut kept = lock(&inner.listeners.kept);
    let current = kept.get(run_id).map(|(t, _)| *t)?;
    if token.is_some_and(|token| token != current) {
        return None;
    }
    kept.remove(run_id).map(|(_, listener)| listener)
}
