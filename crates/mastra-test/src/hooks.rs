//! Test doubles that publish events at the worst moment of an observer's set-up: right
//! after it subscribed live, just before it reads the log, or just after.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::future::{BoxFuture, FutureExt};
use mastra_cache::{CacheError, ServerCache, Ttl};
use mastra_durable::CachingPubSub;
use mastra_pubsub::{
    Event, GroupSubscription, LeaseProvider, PubSub, PubSubError, PublishOptions, Subscription,
};
use serde_json::Value;

/// Something to do when a hook fires (typically: publish events through a caching pubsub).
pub struct Injection(Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>);

impl Injection {
    /// Publishes `events` on `topic` through `via`, so they are logged and indexed.
    pub fn publish(via: CachingPubSub, topic: String, events: Vec<Event>) -> Self {
        Self::custom(move || {
            async move {
                for event in events {
                    via.publish_event(&topic, event, PublishOptions::default())
                        .await
                        .expect("injected publish failed");
                }
            }
            .boxed()
        })
    }

    /// Runs `action` when the hook fires.
    pub fn custom(action: impl FnOnce() -> BoxFuture<'static, ()> + Send + 'static) -> Self {
        Self(Box::new(action))
    }

    async fn fire(self) {
        (self.0)().await;
    }
}

impl std::fmt::Debug for Injection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Injection")
    }
}

fn take(slot: &Mutex<Option<Injection>>) -> Option<Injection> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

/// A pubsub that fires an injection once, right after the next live subscription is made.
#[derive(Debug)]
pub struct HookedPubSub {
    inner: Arc<dyn PubSub>,
    after_subscribe: Mutex<Option<Injection>>,
}

impl HookedPubSub {
    /// Wraps `inner`, unarmed.
    pub fn new(inner: Arc<dyn PubSub>) -> Self {
        Self {
            inner,
            after_subscribe: Mutex::new(None),
        }
    }

    /// Fires `injection` right after the next subscription is made.
    pub fn arm(&self, injection: Injection) {
        *self
            .after_subscribe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(injection);
    }
}

#[async_trait]
impl PubSub for HookedPubSub {
    async fn publish(
        &self,
        topic: &str,
        event: Event,
        options: PublishOptions,
    ) -> Result<(), PubSubError> {
        self.inner.publish(topic, event, options).await
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, PubSubError> {
        let subscription = self.inner.subscribe(topic).await?;
        if let Some(injection) = take(&self.after_subscribe) {
            injection.fire().await;
        }
        Ok(subscription)
    }

    async fn subscribe_group(
        &self,
        topic: &str,
        group: &str,
    ) -> Result<GroupSubscription, PubSubError> {
        self.inner.subscribe_group(topic, group).await
    }

    async fn flush(&self) -> Result<(), PubSubError> {
        self.inner.flush().await
    }

    async fn clear_topic(&self, topic: &str) -> Result<(), PubSubError> {
        self.inner.clear_topic(topic).await
    }

    fn lease_provider(&self) -> Option<Arc<dyn LeaseProvider>> {
        self.inner.lease_provider()
    }
}

/// When a [`HookedCache`] fires around the next log read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadHook {
    /// Publish, then read (the events are in both the history and the live queue).
    BeforeRead,
    /// Read, then publish (the events are only in the live queue).
    AfterRead,
}

/// A cache that fires an injection once, around the next `list_range`.
#[derive(Debug)]
pub struct HookedCache {
    inner: Arc<dyn ServerCache>,
    armed: Mutex<Option<(ReadHook, Injection)>>,
}

impl HookedCache {
    /// Wraps `inner`, unarmed.
    pub fn new(inner: Arc<dyn ServerCache>) -> Self {
        Self {
            inner,
            armed: Mutex::new(None),
        }
    }

    /// Fires `injection` around the next log read.
    pub fn arm(&self, when: ReadHook, injection: Injection) {
        *self
            .armed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((when, injection));
    }
}

#[async_trait]
impl ServerCache for HookedCache {
    async fn get(&self, key: &str) -> Result<Option<Value>, CacheError> {
        self.inner.get(key).await
    }

    async fn set(&self, key: &str, value: Value, ttl: Ttl) -> Result<(), CacheError> {
        self.inner.set(key, value, ttl).await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.inner.delete(key).await
    }

    async fn clear(&self) -> Result<(), CacheError> {
        self.inner.clear().await
    }

    async fn list_len(&self, key: &str) -> Result<u64, CacheError> {
        self.inner.list_len(key).await
    }

    async fn list_range(
        &self,
        key: &str,
        start: u64,
        end: Option<u64>,
    ) -> Result<Vec<String>, CacheError> {
        let armed = self
            .armed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match armed {
            None => self.inner.list_range(key, start, end).await,
            Some((ReadHook::BeforeRead, injection)) => {
                injection.fire().await;
                self.inner.list_range(key, start, end).await
            }
            Some((ReadHook::AfterRead, injection)) => {
                let read = self.inner.list_range(key, start, end).await;
                injection.fire().await;
                read
            }
        }
    }

    async fn append_indexed(&self, key: &str, entry: &str) -> Result<u64, CacheError> {
        self.inner.append_indexed(key, entry).await
    }

    async fn append_indexed_batch(&self, key: &str, entries: &[String]) -> Result<u64, CacheError> {
        self.inner.append_indexed_batch(key, entries).await
    }

    fn prefers_batches(&self) -> bool {
        self.inner.prefers_batches()
    }
}
