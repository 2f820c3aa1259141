//! `create_evented_agent` and the engine's builder.

use super::{EventedEngine, Inner};
use crate::store::{InMemoryWorkflowStore, WorkflowStore};
use mastra_core::Agent;
use mastra_durable::{create_durable_agent, DurableAgentBuilder};
use mastra_pubsub::{InProcessLeases, LeaseProvider, PubSub};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How long a worker's claim on a run lasts without renewal: after a crash, the run is
/// continued by another worker once this has passed.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

/// How long a worker goes on taking one run's steps itself by default (see
/// [`EventedEngineBuilder::continuation`]).
pub const DEFAULT_CONTINUATION: Duration = Duration::from_millis(200);

/// The durable agent on the evented engine: `stream()` returns once the run is queued, and
/// workers of any instance with the agent registered take its steps. Unset parts of the
/// builder come from the `Mastra` instance, as for any durable agent, except the transport,
/// which is the engine's (the queue and the run's events travel on the same one).
pub fn create_evented_agent(agent: Agent, engine: &EventedEngine) -> DurableAgentBuilder {
    create_durable_agent(agent)
        .pubsub(engine.pubsub().clone())
        .engine(Arc::new(engine.clone()))
}

/// Builds an [`EventedEngine`].
pub struct EventedEngineBuilder {
    pubsub: Arc<dyn PubSub>,
    store: Option<Arc<dyn WorkflowStore>>,
    leases: Option<Arc<dyn LeaseProvider>>,
    lease_ttl: Duration,
    continuation: Duration,
    instance: Option<String>,
}

impl fmt::Debug for EventedEngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventedEngineBuilder")
            .field("instance", &self.instance)
            .field("lease_ttl", &self.lease_ttl)
            .field("continuation", &self.continuation)
            .finish_non_exhaustive()
    }
}

impl EventedEngineBuilder {
    pub(super) fn new(pubsub: Arc<dyn PubSub>) -> Self {
        Self {
            pubsub,
            store: None,
            leases: None,
            lease_ttl: DEFAULT_LEASE_TTL,
            continuation: DEFAULT_CONTINUATION,
            instance: None,
        }
    }

    /// Where runs are stored between steps (in memory by default; instances that share
    /// runs must share the store).
    pub fn store(mut self, store: Arc<dyn WorkflowStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Run-ownership leases (the transport's, else in-process ones).
    pub fn leases(mut self, leases: Arc<dyn LeaseProvider>) -> Self {
        self.leases = Some(leases);
        self
    }

    /// How long a claim lasts without renewal ([`DEFAULT_LEASE_TTL`]).
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl.max(Duration::from_millis(3));
        self
    }

    /// How long a worker that took a run's step goes on with the run's next steps itself
    /// ([`DEFAULT_CONTINUATION`]), still saving the run after every step, before it queues
    /// the next one for any worker. Quick steps (a fast tool, a cached answer) then cost a
    /// save each instead of a trip through the queue, while runs sharing few workers still
    /// take turns; a step that starts within the time still runs to its end. Zero queues
    /// every step. A worker that crashes while continuing a run is replaced as it would be
    /// mid-step: once its lease and its message time out.
    pub fn continuation(mut self, continuation: Duration) -> Self {
        self.continuation = continuation;
        self
    }

    /// This instance's id (a random one by default).
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance = Some(id.into());
        self
    }

    pub fn build(self) -> EventedEngine {
        let leases = self
            .leases
            .or_else(|| self.pubsub.lease_provider())
            .unwrap_or_else(|| Arc::new(InProcessLeases::new()));
        EventedEngine {
            inner: Arc::new(Inner {
                instance: self
                    .instance
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                pubsub: self.pubsub,
                store: self
                    .store
                    .unwrap_or_else(|| Arc::new(InMemoryWorkflowStore::new())),
                leases,
                lease_ttl: self.lease_ttl,
                continuation: self.continuation,
                agents: Default::default(),
                local: Default::default(),
                executing: Default::default(),
                listeners: Default::default(),
                checkpoints: Default::default(),
            }),
        }
    }
}
