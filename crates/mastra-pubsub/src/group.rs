//! Competing consumers: a named group shares a topic's events, one delivery per group.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use futures::stream::{BoxStream, Stream, StreamExt};

use crate::{Event, PubSubError};

/// How a backend settles one group delivery. Implemented by each backend.
#[async_trait]
pub trait Acknowledger: Send + Sync + fmt::Debug {
    /// The message was handled; it is not delivered again.
    async fn ack(&self) -> Result<(), PubSubError>;
    /// The message was not handled; the group gets it again with `deliveryAttempt + 1`.
    async fn nack(&self) -> Result<(), PubSubError>;
}

/// One event handed to one member of a consumer group. Settle it with [`ack`](Self::ack)
/// or [`nack`](Self::nack); what happens to a message dropped unsettled is backend-defined
/// (the in-process backend redelivers it, as Redis would after its claim timeout).
#[derive(Debug)]
pub struct GroupMessage {
    event: Event,
    acknowledger: Box<dyn Acknowledger>,
}

impl GroupMessage {
    /// Pairs an event with the backend handle that settles it.
    pub fn new(event: Event, acknowledger: Box<dyn Acknowledger>) -> Self {
        Self {
            event,
            acknowledger,
        }
    }

    /// The delivered event; `delivery_attempt` counts deliveries, starting at 1.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// Marks the message as handled.
    pub async fn ack(self) -> Result<(), PubSubError> {
        self.acknowledger.ack().await
    }

    /// Gives the message back to the group for another delivery.
    pub async fn nack(self) -> Result<(), PubSubError> {
        self.acknowledger.nack().await
    }
}

/// A membership in a consumer group on one topic; dropping it leaves the group.
pub struct GroupSubscription {
    topic: String,
    group: String,
    stream: BoxStream<'static, GroupMessage>,
}

impl GroupSubscription {
    /// Wraps a backend's message stream. The stream should leave the group when dropped.
    pub fn new(
        topic: impl Into<String>,
        group: impl Into<String>,
        stream: impl Stream<Item = GroupMessage> + Send + 'static,
    ) -> Self {
        Self {
            topic: topic.into(),
            group: group.into(),
            stream: stream.boxed(),
        }
    }

    /// The topic of the group.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The group's name.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Waits for the next message for this member; `None` once the transport has shut down.
    pub async fn next(&mut self) -> Option<GroupMessage> {
        self.stream.next().await
    }
}

impl Stream for GroupSubscription {
    type Item = GroupMessage;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<GroupMessage>> {
        self.stream.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for GroupSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupSubscription")
            .field("topic", &self.topic)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}
