//! Run ownership: which agent and resource each run started here belongs to, so that one
//! resource cannot observe, abort or answer another's run (they get 404, as if the run did
//! not exist), and a run is only reachable through the agent that started it.
//!
//! The record is a bounded in-memory map (oldest forgotten first). A run it does not know
//! (started by another process, or forgotten) falls back to the resource stored with the
//! run's paused state, when it is paused; otherwise it is not scoped.

use crate::error::ApiError;
use mastra_durable::DurableAgent;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Whom a run belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunOwner {
    pub(crate) agent_id: String,
    pub(crate) resource: Option<String>,
}

/// The owners of the runs started through this server, at most `capacity` of them.
#[derive(Debug)]
pub(crate) struct RunOwners {
    capacity: usize,
    inner: Mutex<Owners>,
}

#[derive(Debug, Default)]
struct Owners {
    by_run: HashMap<String, RunOwner>,
    order: VecDeque<String>,
}

impl RunOwners {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Owners::default()),
        }
    }

    /// Records the owner of a new run; `false` (and nothing changes) when the run id is
    /// already recorded, so that nobody takes over another's run by reusing its id.
    pub(crate) fn claim(&self, run_id: &str, owner: RunOwner) -> bool {
        let Ok(mut owners) = self.inner.lock() else {
            return false;
        };
        if owners.by_run.contains_key(run_id) {
            return false;
        }
        owners.by_run.insert(run_id.to_owned(), owner);
        owners.order.push_back(run_id.to_owned());
        while owners.order.len() > self.capacity {
            if let Some(oldest) = owners.order.pop_front() {
                owners.by_run.remove(&oldest);
            }
        }
        true
    }

    /// Forgets a claim whose run did not start.
    pub(crate) fn release(&self, run_id: &str) {
        if let Ok(mut owners) = self.inner.lock() {
            if owners.by_run.remove(run_id).is_some() {
                owners.order.retain(|id| id != run_id);
            }
        }
    }

    pub(crate) fn owner(&self, run_id: &str) -> Option<RunOwner> {
        self.inner.lock().ok()?.by_run.get(run_id).cloned()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().map(|o| o.by_run.len()).unwrap_or(0)
    }

    /// Answers 404 unless a request for `agent_id`, acting for `resource`, may reach the run.
    pub(crate) async fn check(
        &self,
        durable: &DurableAgent,
        run_id: &str,
        resource: Option<&str>,
    ) -> Result<(), ApiError> {
        let (agent_id, owner_resource) = match self.owner(run_id) {
            Some(owner) => (Some(owner.agent_id), owner.resource),
            None => {
                let paused = durable.paused_state(run_id).await?;
                (None, paused.and_then(|state| state.resource_id))
            }
        };
        let other_agent = agent_id.is_some_and(|id| id != durable.id());
        let other_resource = owner_resource.is_some_and(|owner| resource != Some(&owner));
        if other_agent || other_resource {
            return Err(ApiError::unknown_run(run_id));
        }
        Ok(())
    }
}

/// The resource a request acts for: a token bound to a resource decides; a request naming
/// another resource with it is refused (403).
pub(crate) fn acting_resource(
    bound: Option<&str>,
    named: Option<String>,
) -> Result<Option<String>, ApiError> {
    match (bound, named) {
        (Some(bound), Some(named)) if bound != named => Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "this token acts for another resource",
        )),
        (Some(bound), _) => Ok(Some(bound.to_owned())),
        (None, named) => Ok(named),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(resource: &str) -> RunOwner {
        RunOwner {
            agent_id: "a".into(),
            resource: Some(resource.into()),
        }
    }

    #[test]
    fn the_oldest_owner_is_forgotten_at_capacity() {
        let owners = RunOwners::new(2);
        assert!(owners.claim("r1", owner("x")));
        assert!(owners.claim("r2", owner("y")));
        assert!(!owners.claim("r1", owner("w")));
        assert!(owners.claim("r3", owner("z")));
        assert_eq!(owners.len(), 2);
        assert_eq!(owners.owner("r1"), None);
        assert_eq!(owners.owner("r3"), Some(owner("z")));
        owners.release("r3");
        assert_eq!(owners.owner("r3"), None);
    }

    #[test]
    fn bound_tokens_decide_the_resource() {
        assert_eq!(
            acting_resource(None, Some("a".into())).unwrap().as_deref(),
            Some("a")
        );
        assert_eq!(
            acting_resource(Some("b"), None).unwrap().as_deref(),
            Some("b")
        );
        assert!(acting_resource(Some("b"), Some("a".into())).is_err());
    }
}
