//! What the conformance suite runs against: a factory of backends (a pubsub and a cache
//! that share one store), with the in-memory one.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mastra_cache::{InMemoryServerCache, InMemoryServerCacheOptions, ServerCache};
use mastra_durable::CachingPubSub;
use mastra_pubsub::{EventEmitterPubSub, PubSub};

/// Cache settings a test asks its backend for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// Default TTL of keys (`Duration::ZERO` = never expire).
    pub ttl: Duration,
    /// Key cap, for backends that enforce one.
    pub max_keys: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            max_keys: 10_000,
        }
    }
}

impl CacheSettings {
    /// Settings with another default TTL.
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            ttl,
            ..Self::default()
        }
    }
}

/// One opened backend: a transport and a cache over the same store.
#[derive(Debug, Clone)]
pub struct Backend {
    /// The live transport.
    pub pubsub: Arc<dyn PubSub>,
    /// The cache holding the run logs.
    pub cache: Arc<dyn ServerCache>,
    /// The settings it was opened with.
    pub settings: CacheSettings,
}

impl Backend {
    /// A caching pubsub over this backend, with the default options.
    pub fn caching(&self) -> CachingPubSub {
        CachingPubSub::new(Arc::clone(&self.pubsub), Arc::clone(&self.cache))
    }
}

/// Opens backends for the conformance suite. Tests use unique topic and key names, so
/// one shared server (e.g. one Redis) can serve every test at once.
#[async_trait]
pub trait BackendFactory: Send + Sync {
    /// A short name for failure messages.
    fn name(&self) -> &str;

    /// Opens a backend whose cache uses `settings`. Panics when the backend is unreachable:
    /// a conformance test never passes by skipping.
    async fn open(&self, settings: CacheSettings) -> Backend;

    /// Opens the same store again, as a restarted process would.
    async fn reopen(&self, backend: &Backend) -> Backend;

    /// Whether the cache evicts keys beyond `max_keys` (Redis leaves that to `maxmemory`).
    fn enforces_key_cap(&self) -> bool;
}

/// The in-process backends: `EventEmitterPubSub` and `InMemoryServerCache`.
#[derive(Debug, Clone, Copy)]
pub struct InMemoryBackend {
    live_capacity: usize,
}

impl Default for InMemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryBackend {
    /// In-memory backends whose live readers lag after 64 events, so that the catch-up
    /// paths run in the suite too.
    pub fn new() -> Self {
        Self { live_capacity: 64 }
    }

    /// In-memory backends with another live capacity.
    pub fn with_live_capacity(live_capacity: usize) -> Self {
        Self { live_capacity }
    }
}

#[async_trait]
impl BackendFactory for InMemoryBackend {
    fn name(&self) -> &str {
        "in-memory"
    }

    async fn open(&self, settings: CacheSettings) -> Backend {
        let options = InMemoryServerCacheOptions::default()
            .with_ttl(settings.ttl)
            .with_max_keys(settings.max_keys);
        Backend {
            pubsub: Arc::new(EventEmitterPubSub::with_capacity(self.live_capacity)),
            cache: Arc::new(InMemoryServerCache::with_options(options)),
            settings,
        }
    }

    async fn reopen(&self, backend: &Backend) -> Backend {
        // A restarted process gets a new transport; the cache is the shared store.
        Backend {
            pubsub: Arc::new(EventEmitterPubSub::with_capacity(self.live_capacity)),
            cache: Arc::clone(&backend.cache),
            settings: backend.settings,
        }
    }

    fn enforces_key_cap(&self) -> bool {
        true
    }
}
