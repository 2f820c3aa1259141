//! The `PubSub` contract every transport implements (in-process here, Redis in its own crate).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{Event, GroupSubscription, LeaseProvider, PubSubError, Subscription};

/// Options of one publish.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishOptions {
    /// Deliver only to subscribers in this process: never relayed to other instances and
    /// never written to a run's log (so it gets no index).
    pub local_only: bool,
}

impl PublishOptions {
    /// Options for a process-local publish.
    pub fn local_only() -> Self {
        Self { local_only: true }
    }
}

/// A topic-based event transport.
///
/// - [`publish`](Self::publish) delivers an event to every fan-out subscriber of the topic
///   and to one member of each consumer group. The event is delivered as given: its `index`
///   and `id` are preserved.
/// - [`subscribe`](Self::subscribe) and [`subscribe_group`](Self::subscribe_group) start at
///   the latest event: nothing published before they return is delivered.
/// - A fan-out reader that falls behind gets [`Delivery::Lagged`](crate::Delivery::Lagged),
///   never a silent gap; a transport that reconnects says so with
///   [`Delivery::Reconnected`](crate::Delivery::Reconnected).
/// - Dropping a subscription unsubscribes.
#[async_trait]
pub trait PubSub: Send + Sync + fmt::Debug {
    /// Publishes `event` on `topic`.
    async fn publish(
        &self,
        topic: &str,
        event: Event,
        options: PublishOptions,
    ) -> Result<(), PubSubError>;

    /// Subscribes to every event published on `topic` from now on.
    async fn subscribe(&self, topic: &str) -> Result<Subscription, PubSubError>;

    /// Joins the consumer group `group` on `topic`: each event published from now on goes to
    /// one member of the group, and is redelivered with `deliveryAttempt + 1` when nacked.
    async fn subscribe_group(
        &self,
        topic: &str,
        group: &str,
    ) -> Result<GroupSubscription, PubSubError>;

    /// Waits until every event published so far has been handed to the transport.
    async fn flush(&self) -> Result<(), PubSubError>;

    /// Drops whatever the transport retains for `topic` (pending group messages, streams).
    async fn clear_topic(&self, topic: &str) -> Result<(), PubSubError>;

    /// The run-ownership leases that come with this transport, if it has any.
    fn lease_provider(&self) -> Option<Arc<dyn LeaseProvider>> {
        None
    }

    /// The transport itself, for a store of the same backend that can queue a message in
    /// the same operation as its own write (one round trip instead of two). `None` by
    /// default: the message is then always published on its own.
    fn as_any(&self) -> Option<&dyn Any> {
        None
    }
}

#[async_trait]
impl<T: PubSub + ?Sized> PubSub for Arc<T> {
    async fn publish(
        &self,
        topic: &str,
        event: Event,
        options: PublishOptions,
    ) -> Result<(), PubSubError> {
        (**self).publish(topic, event, options).await
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, PubSubError> {
        (**self).subscribe(topic).await
    }

    async fn subscribe_group(
        &self,
        topic: &str,
        group: &str,
    ) -> Result<GroupSubscription, PubSubError> {
        (**self).subscribe_group(topic, group).await
    }

    async fn flush(&self) -> Result<(), PubSubError> {
        (**self).flush().await
    }

    async fn clear_topic(&self, topic: &str) -> Result<(), PubSubError> {
        (**self).clear_topic(topic).await
    }

    fn lease_provider(&self) -> Option<Arc<dyn LeaseProvider>> {
        (**self).lease_provider()
    }

    fn as_any(&self) -> Option<&dyn Any> {
        (**self).as_any()
    }
}
