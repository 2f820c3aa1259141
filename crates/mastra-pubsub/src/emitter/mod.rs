//! `EventEmitterPubSub`: the in-process transport, named after upstream's default.
//!
//! Fan-out uses one bounded broadcast channel per topic: a reader that falls more than
//! `capacity` events behind is told how many it missed ([`Delivery::Lagged`]) and the
//! caching layer above fills the gap from the run's log. Consumer groups use one unbounded
//! queue per group, so group members never lag.

mod fanout;
mod groups;
mod hub;
mod leases;

use std::sync::Arc;

use async_trait::async_trait;

pub use leases::InProcessLeases;

use crate::{
    Event, GroupSubscription, LeaseProvider, PubSub, PubSubError, PublishOptions, Subscription,
};
use hub::Hub;

/// How many events a fan-out reader may fall behind before it is told it lagged.
pub const DEFAULT_CAPACITY: usize = 1024;

/// The in-process pubsub (with in-process leases). Clones share the same topics.
#[derive(Debug, Clone)]
pub struct EventEmitterPubSub {
    hub: Arc<Hub>,
    leases: Arc<InProcessLeases>,
}

impl Default for EventEmitterPubSub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventEmitterPubSub {
    /// A transport whose fan-out readers may fall [`DEFAULT_CAPACITY`] events behind.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A transport whose fan-out readers may fall `capacity` events behind (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            hub: Arc::new(Hub::new(capacity.max(1))),
            leases: Arc::new(InProcessLeases::new()),
        }
    }

    /// The in-process leases of this transport.
    pub fn leases(&self) -> Arc<InProcessLeases> {
        Arc::clone(&self.leases)
    }

    /// How many fan-out subscriptions `topic` has right now.
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.hub.subscriber_count(topic)
    }

    /// How many topics have subscribers or groups right now (dropped subscriptions free theirs).
    pub fn topic_count(&self) -> usize {
        self.hub.topic_count()
    }
}

#[async_trait]
impl PubSub for EventEmitterPubSub {
    async fn publish(
        &self,
        topic: &str,
        event: Event,
        _options: PublishOptions,
    ) -> Result<(), PubSubError> {
        // Everything is process-local here, so `local_only` changes nothing.
        self.hub.publish(topic, event);
        Ok(())
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, PubSubError> {
        Ok(fanout::subscribe(&self.hub, topic))
    }

    async fn subscribe_group(
        &self,
        topic: &str,
        group: &str,
    ) -> Result<GroupSubscription, PubSubError> {
        Ok(groups::join(&self.hub, topic, group))
    }

    async fn flush(&self) -> Result<(), PubSubError> {
        // Publishing hands events over synchronously: nothing is pending.
        Ok(())
    }

    async fn clear_topic(&self, topic: &str) -> Result<(), PubSubError> {
        self.hub.clear_pending(topic);
        Ok(())
    }

    fn lease_provider(&self) -> Option<Arc<dyn LeaseProvider>> {
        Some(self.leases.clone())
    }
}
