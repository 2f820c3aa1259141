//! `create_durable_agent(agent)` and its builder.

use super::channel::RunChannel;
use super::{DurableAgent, DurableInner};
use crate::engine::{ExecutionEngine, LocalEngine, RunContext};
use crate::store::{InMemoryRunStore, RunStore};
use crate::{CachingOptions, CachingPubSub, Pipelining};
use mastra_cache::{InMemoryServerCache, ServerCache};
use mastra_core::Agent;
use mastra_pubsub::{EventEmitterPubSub, PubSub};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How long a finished run's log stays for late observers, by default.
pub const DEFAULT_CLEANUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Wraps an agent so that its runs outlive their client connection and can be observed from
/// any event index. Unset parts come from the `Mastra` instance it is registered with, or
/// else the in-process defaults.
pub fn create_durable_agent(agent: Agent) -> DurableAgentBuilder {
    DurableAgentBuilder {
        agent,
        id: None,
        name: None,
        pubsub: None,
        cache: CacheChoice::Inherit,
        store: None,
        engine: None,
        max_steps: None,
        cleanup_timeout: DEFAULT_CLEANUP_TIMEOUT,
        observe_idle_timeout: None,
        pipelining: Pipelining::Auto,
    }
}

#[derive(Clone)]
enum CacheChoice {
    Inherit,
    Own(Arc<dyn ServerCache>),
    Disabled,
}

/// Builds a [`DurableAgent`].
pub struct DurableAgentBuilder {
    agent: Agent,
    id: Option<String>,
    name: Option<String>,
    pubsub: Option<Arc<dyn PubSub>>,
    cache: CacheChoice,
    store: Option<Arc<dyn RunStore>>,
    engine: Option<Arc<dyn ExecutionEngine>>,
    /// `Some(None)` is unlimited.
    max_steps: Option<Option<u32>>,
    cleanup_timeout: Duration,
    observe_idle_timeout: Option<Duration>,
    pipelining: Pipelining,
}

impl fmt::Debug for DurableAgentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableAgentBuilder")
            .field("agent", &self.agent.id())
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What a `Mastra` instance lends its durable agents.
#[derive(Debug, Clone)]
pub(crate) struct Defaults {
    pub(crate) pubsub: Arc<dyn PubSub>,
    pub(crate) cache: Arc<dyn ServerCache>,
    pub(crate) store: Arc<dyn RunStore>,
}

impl Defaults {
    pub(crate) fn in_process() -> Self {
        Self {
            pubsub: Arc::new(EventEmitterPubSub::new()),
            cache: Arc::new(InMemoryServerCache::new()),
            store: Arc::new(InMemoryRunStore::new()),
        }
    }
}

impl DurableAgentBuilder {
    /// Registers the durable agent under another id (the wrapped agent's by default).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The live transport (the `Mastra` instance's, or an in-process one, by default).
    pub fn pubsub(mut self, pubsub: Arc<dyn PubSub>) -> Self {
        self.pubsub = Some(pubsub);
        self
    }

    /// The cache holding run logs (the `Mastra` instance's, or an in-memory one, by default).
    pub fn cache(mut self, cache: Arc<dyn ServerCache>) -> Self {
        self.cache = CacheChoice::Own(cache);
        self
    }

    /// No run log: streams are live only and cannot be resumed from an offset.
    pub fn no_cache(mut self) -> Self {
        self.cache = CacheChoice::Disabled;
        self
    }

    /// Where paused runs wait for their answer.
    pub fn run_store(mut self, store: Arc<dyn RunStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How runs are executed ([`LocalEngine`] by default).
    pub fn engine(mut self, engine: Arc<dyn ExecutionEngine>) -> Self {
        self.engine = Some(engine);
        self
    }

    /// The most model steps per run (the agent's own setting, 5 by default).
    pub fn max_steps(mut self, max_steps: u32) -> Self {
        self.max_steps = Some(Some(max_steps));
        self
    }

    /// No limit on model steps.
    pub fn unlimited_steps(mut self) -> Self {
        self.max_steps = Some(None);
        self
    }

    /// How long a finished run's log stays for late observers (30 s; zero keeps it until
    /// the cache's TTL removes it).
    pub fn cleanup_timeout(mut self, timeout: Duration) -> Self {
        self.cleanup_timeout = timeout;
        self
    }

    /// Ends observers that see no event for this long.
    pub fn observe_idle_timeout(mut self, timeout: Duration) -> Self {
        self.observe_idle_timeout = Some(timeout);
        self
    }

    /// Whether the run log's appends are pipelined ([`Pipelining::Auto`]: as the cache
    /// prefers, on for Redis, off in memory).
    pub fn pipelining(mut self, pipelining: Pipelining) -> Self {
        self.pipelining = pipelining;
        self
    }

    /// The durable agent, on in-process defaults for whatever was not set.
    pub fn build(self) -> DurableAgent {
        self.build_with(&Defaults::in_process())
    }

    pub(crate) fn build_with(self, defaults: &Defaults) -> DurableAgent {
        let pubsub = self.pubsub.unwrap_or_else(|| defaults.pubsub.clone());
        let options = CachingOptions::default().with_pipelining(self.pipelining);
        let channel = match self.cache {
            CacheChoice::Disabled => RunChannel::LiveOnly(pubsub),
            CacheChoice::Own(cache) => {
                RunChannel::Logged(CachingPubSub::with_options(pubsub, cache, options))
            }
            CacheChoice::Inherit => RunChannel::Logged(CachingPubSub::with_options(
                pubsub,
                defaults.cache.clone(),
                options,
            )),
        };
        let id = self.id.unwrap_or_else(|| self.agent.id().to_owned());
        let name = self.name.unwrap_or_else(|| match id == self.agent.id() {
            true => self.agent.name().to_owned(),
            false => id.clone(),
        });
        let agent = if id == self.agent.id() && name == self.agent.name() {
            self.agent
        } else {
            self.agent.with_identity(&id, &name)
        };
        let max_steps = match self.max_steps {
            None => agent.max_steps(),
            Some(Some(n)) => n.max(1),
            Some(None) => u32::MAX,
        };
        DurableAgent {
            inner: Arc::new(DurableInner {
                ctx: RunContext {
                    agent,
                    channel,
                    store: self.store.unwrap_or_else(|| defaults.store.clone()),
                    cleanup_timeout: self.cleanup_timeout,
                },
                engine: self.engine.unwrap_or_else(|| Arc::new(LocalEngine::new())),
                max_steps,
                observe_idle_timeout: self.observe_idle_timeout,
            }),
        }
    }
}
