//! The `Mastra` registry: agents by id, and the pubsub, cache and run-state store that
//! durable agents inherit unless given their own.
//!
//! ```
//! use mastra_core::{demo, Agent};
//! use mastra_durable::{create_durable_agent, Mastra};
//!
//! let plain = Agent::builder("plain", demo::DemoModel::new()).build();
//! let durable = create_durable_agent(Agent::builder("durable", demo::DemoModel::new()).build());
//! let mastra = Mastra::builder().agent(plain).durable_agent(durable).build().unwrap();
//! assert!(mastra.durable_agent("durable").is_some());
//! assert!(mastra.agent("plain").is_some());
//! assert_eq!(mastra.agent_ids(), ["durable", "plain"]);
//! ```

use crate::agent::{Defaults, DurableAgent, DurableAgentBuilder};
use crate::engine::{metrics, DurableMetrics};
use crate::store::RunStore;
use crate::DurableError;
use mastra_cache::ServerCache;
use mastra_core::Agent;
use mastra_pubsub::PubSub;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A registered agent.
#[derive(Debug, Clone)]
pub enum RegisteredAgent {
    Plain(Agent),
    Durable(DurableAgent),
}

impl RegisteredAgent {
    /// The agent itself (for a durable agent, the one it wraps).
    pub fn agent(&self) -> &Agent {
        match self {
            Self::Plain(agent) => agent,
            Self::Durable(durable) => durable.agent(),
        }
    }
}

/// Agents by id, with the defaults their durable runs use. Cheap to clone.
#[derive(Clone)]
pub struct Mastra {
    inner: Arc<MastraInner>,
}

struct MastraInner {
    agents: BTreeMap<String, RegisteredAgent>,
    defaults: Defaults,
}

impl fmt::Debug for Mastra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mastra")
            .field("agents", &self.agent_ids())
            .finish_non_exhaustive()
    }
}

impl Mastra {
    pub fn builder() -> MastraBuilder {
        MastraBuilder::default()
    }

    /// Every registered agent's id, sorted.
    pub fn agent_ids(&self) -> Vec<&str> {
        self.inner.agents.keys().map(String::as_str).collect()
    }

    /// A registered agent, plain or durable.
    pub fn get(&self, id: &str) -> Option<&RegisteredAgent> {
        self.inner.agents.get(id)
    }

    /// Every registered agent.
    pub fn agents(&self) -> impl Iterator<Item = (&str, &RegisteredAgent)> {
        self.inner
            .agents
            .iter()
            .map(|(id, agent)| (id.as_str(), agent))
    }

    /// The agent registered under `id` (for a durable one, the agent it wraps).
    pub fn agent(&self, id: &str) -> Option<&Agent> {
        self.get(id).map(RegisteredAgent::agent)
    }

    /// The durable agent registered under `id`.
    pub fn durable_agent(&self, id: &str) -> Option<&DurableAgent> {
        match self.get(id)? {
            RegisteredAgent::Durable(durable) => Some(durable),
            RegisteredAgent::Plain(_) => None,
        }
    }

    pub fn pubsub(&self) -> &Arc<dyn PubSub> {
        &self.inner.defaults.pubsub
    }

    pub fn cache(&self) -> &Arc<dyn ServerCache> {
        &self.inner.defaults.cache
    }

    pub fn run_store(&self) -> &Arc<dyn RunStore> {
        &self.inner.defaults.store
    }

    /// The durable-run counters of this process (shared by every `Mastra` instance in it):
    /// active runs, events appended, open observers, replay lag.
    pub fn metrics(&self) -> DurableMetrics {
        metrics::snapshot()
    }
}

/// Builds a [`Mastra`] registry.
#[derive(Default)]
pub struct MastraBuilder {
    pubsub: Option<Arc<dyn PubSub>>,
    cache: Option<Arc<dyn ServerCache>>,
    store: Option<Arc<dyn RunStore>>,
    plain: Vec<Agent>,
    durable: Vec<DurableAgentBuilder>,
}

impl fmt::Debug for MastraBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MastraBuilder").finish_non_exhaustive()
    }
}

impl MastraBuilder {
    /// The live transport durable agents use unless given their own.
    pub fn pubsub(mut self, pubsub: Arc<dyn PubSub>) -> Self {
        self.pubsub = Some(pubsub);
        self
    }

    /// The cache of run logs durable agents use unless given their own.
    pub fn cache(mut self, cache: Arc<dyn ServerCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Where paused runs wait, unless a durable agent has its own store.
    pub fn run_store(mut self, store: Arc<dyn RunStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Registers a plain agent.
    pub fn agent(mut self, agent: Agent) -> Self {
        self.plain.push(agent);
        self
    }

    /// Registers a durable agent; what it was not given it inherits from this instance.
    pub fn durable_agent(mut self, agent: DurableAgentBuilder) -> Self {
        self.durable.push(agent);
        self
    }

    /// The registry; two agents with one id are an error.
    pub fn build(self) -> Result<Mastra, DurableError> {
        let fallback = Defaults::in_process();
        let defaults = Defaults {
            pubsub: self.pubsub.unwrap_or(fallback.pubsub),
            cache: self.cache.unwrap_or(fallback.cache),
            store: self.store.unwrap_or(fallback.store),
        };
        let mut agents = BTreeMap::new();
        let registered = self.plain.into_iter().map(RegisteredAgent::Plain).chain(
            self.durable
                .into_iter()
                .map(|b| RegisteredAgent::Durable(b.build_with(&defaults))),
        );
        for agent in registered {
            let id = match &agent {
                RegisteredAgent::Plain(a) => a.id().to_owned(),
                RegisteredAgent::Durable(d) => d.id().to_owned(),
            };
            if agents.insert(id.clone(), agent).is_some() {
                return Err(DurableError::RunState {
                    run_id: String::new(),
                    reason: format!("two agents are registered as `{id}`"),
                });
            }
        }
        Ok(Mastra {
            inner: Arc::new(MastraInner { agents, defaults }),
        })
    }
}
