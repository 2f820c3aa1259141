//! `RedisPubSub`: the `PubSub` contract on Redis. Fan-out uses Redis pub/sub (one channel
//! per topic), consumer groups use Redis Streams (one stream per topic, only while the
//! topic has groups); see `docs/architecture.md`, "Redis backends", for why.

mod channel;
mod fanout;
mod groups;
mod publisher;
mod replies;

use std::sync::Arc;

use async_trait::async_trait;
use fred::types::Value;
use mastra_pubsub::{
    Event, GroupSubscription, LeaseProvider, PubSub, PubSubError, PublishOptions, Subscription,
};

use crate::error::pubsub_error;
use crate::{RedisConnection, RedisError, RedisLeases};
use fanout::{ChannelKind, Fanout};
use groups::{create_group, GroupKeys, Member};
use publisher::{Publish, Publisher};

/// A [`PubSub`] over Redis, with [`RedisLeases`] as its lease provider.
///
/// Channel names: `<channel prefix>topic:<topic>` for events, `<channel prefix>wake:<topic>`
/// for group wake-ups, and the key `<channel prefix>stream:<topic>` for the group stream.
#[derive(Debug, Clone)]
pub struct RedisPubSub {
    connection: RedisConnection,
    fanout: Arc<Fanout>,
    publisher: Arc<Publisher>,
    leases: Arc<RedisLeases>,
}

impl RedisPubSub {
    /// A transport over `connection`; opens one more connection for subscriptions.
    pub async fn new(connection: RedisConnection) -> Result<Self, RedisError> {
        let subscriber = connection.subscriber().await?;
        let capacity = connection.config().live_capacity;
        let fanout = Arc::new(Fanout::new(subscriber, capacity));
        Ok(Self {
            publisher: Arc::new(Publisher::new(connection.clone(), Arc::clone(&fanout))),
            fanout,
            leases: Arc::new(RedisLeases::new(connection.clone())),
            connection,
        })
    }

    /// The Redis channel of `topic`'s events.
    pub fn channel(&self, topic: &str) -> String {
        format!("{}topic:{topic}", self.connection.config().channel_prefix)
    }

    /// The Redis stream of `topic`'s consumer groups.
    pub fn stream_key(&self, topic: &str) -> String {
        format!("{}stream:{topic}", self.connection.config().channel_prefix)
    }

    fn wake_channel(&self, topic: &str) -> String {
        format!("{}wake:{topic}", self.connection.config().channel_prefix)
    }

    /// The leases of this transport.
    pub fn leases(&self) -> Arc<RedisLeases> {
        Arc::clone(&self.leases)
    }

    /// The keys and arguments of the `PUBLISH` script publishing `event` on `topic`, so
    /// that a script of the same Redis can queue the same message with its own writes.
    pub(crate) fn topic_publish(
        &self,
        topic: &str,
        event: &Event,
    ) -> Result<TopicPublish, PubSubError> {
        self.publish_on(topic, self.channel(topic), event)
    }

    /// [`topic_publish`](Self::topic_publish) with the topic's fan-out channel, already
    /// named by the caller.
    fn publish_on(
        &self,
        topic: &str,
        channel: String,
        event: &Event,
    ) -> Result<TopicPublish, PubSubError> {
        let config = self.connection.config();
        Ok(TopicPublish {
            stream: self.stream_key(topic),
            args: vec![
                channel,
                serde_json::to_string(event)?,
                config.stream_max_len.to_string(),
                self.wake_channel(topic),
                millis(config.stream_ttl),
            ],
        })
    }

    /// The Redis server (URL, database included) this transport publishes to.
    pub(crate) fn url(&self) -> &str {
        &self.connection.config().url
    }

    /// The connection name (`CLIENT SETNAME`) of the subscriber connection, as listed by
    /// `CLIENT LIST`; for operations and tests (`CLIENT KILL`).
    pub fn subscriber_name(&self) -> String {
        use fred::interfaces::ClientLike;
        self.fanout.subscriber().id().to_string()
    }
}

#[async_trait]
impl PubSub for RedisPubSub {
    async fn publish(
        &self,
        topic: &str,
        event: Event,
        options: PublishOptions,
    ) -> Result<(), PubSubError> {
        let channel = self.channel(topic);
        if options.local_only {
            self.fanout.deliver_locally(&channel, event);
            return Ok(());
        }
        let TopicPublish { stream, args } = self.publish_on(topic, channel.clone(), &event)?;
        self.fanout.sending(&channel, &event.id);
        let queued = self.publisher.publish(Publish {
            stream,
            args: args.into_iter().map(Value::from).collect(),
            channel: channel.clone(),
            id: event.id.clone(),
        });
        if queued.is_err() {
            self.fanout.failed(&channel, &event.id);
        }
        queued
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, PubSubError> {
        // Start at the latest event: this process's queued publishes are not "new".
        let _ = self.publisher.flush().await;
        let reader = self
            .fanout
            .subscribe(&self.channel(topic), ChannelKind::Events)
            .await?;
        let stream = futures::stream::unfold(reader, |mut reader| async move {
            let delivery = reader.next_delivery().await?;
            Some((delivery, reader))
        });
        Ok(Subscription::new(topic, stream))
    }

    async fn subscribe_group(
        &self,
        topic: &str,
        group: &str,
    ) -> Result<GroupSubscription, PubSubError> {
        let keys = GroupKeys {
            stream: self.stream_key(topic),
            wake: self.wake_channel(topic),
            group: group.to_owned(),
        };
        let _ = self.publisher.flush().await;
        // Listen for wake-ups before the group exists, so none is missed.
        let wake = self.fanout.subscribe(&keys.wake, ChannelKind::Wake).await?;
        let stream_ttl = millis(self.connection.config().stream_ttl);
        create_group(self.connection.client(), &keys, &stream_ttl)
            .await
            .map_err(pubsub_error)?;
        let reader = self.connection.dedicated().await.map_err(|error| {
            let retryable = error.is_retryable();
            PubSubError::backend(error, retryable)
        })?;
        let member = Member::new(self.connection.clone(), reader, keys, wake);
        let stream = futures::stream::unfold(member, |mut member| async move {
            let message = member.next().await?;
            Some((message, member))
        });
        Ok(GroupSubscription::new(topic, group, stream))
    }

    async fn flush(&self) -> Result<(), PubSubError> {
        self.publisher.flush().await
    }

    async fn clear_topic(&self, topic: &str) -> Result<(), PubSubError> {
        use fred::interfaces::KeysInterface;
        self.connection
            .client()
            .unlink::<(), _>(self.stream_key(topic))
            .await
            .map_err(pubsub_error)
    }

    fn lease_provider(&self) -> Option<Arc<dyn LeaseProvider>> {
        Some(self.leases.clone())
    }

    /// A `RedisWorkflowStore` on the same Redis queues a run's next step in its save.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// One publish as the `PUBLISH` script takes it: KEYS `[stream]`, then `args` (fan-out
/// channel, event JSON, stream cap, wake channel, stream TTL ms).
#[derive(Debug)]
pub(crate) struct TopicPublish {
    pub(crate) stream: String,
    pub(crate) args: Vec<String>,
}

/// A duration in whole milliseconds (at least 1), as Redis arguments want it.
pub(crate) fn millis(duration: std::time::Duration) -> String {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
        .to_string()
}
