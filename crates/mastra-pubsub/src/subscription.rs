//! A fan-out subscription: a stream of deliveries that unsubscribes when dropped.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::{BoxStream, Stream, StreamExt};

use crate::Event;

/// What a live subscription hands its reader.
///
/// Besides events, a transport reports explicitly when it may have dropped some, so the
/// layer above can catch up from the run's log instead of losing events silently.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Delivery {
    /// The next event published on the topic.
    Event(Arc<Event>),
    /// The reader fell behind and `missed` events were dropped for it.
    Lagged {
        /// How many events this reader did not receive.
        missed: u64,
    },
    /// The transport reconnected; events published while it was away may be missing.
    Reconnected,
}

impl Delivery {
    /// The event, if this delivery carries one.
    pub fn event(&self) -> Option<&Arc<Event>> {
        match self {
            Self::Event(event) => Some(event),
            Self::Lagged { .. } | Self::Reconnected => None,
        }
    }
}

/// A live fan-out subscription to one topic, starting at the latest event.
///
/// It yields [`Delivery`] items (it is a [`Stream`], and has an inherent [`next`](Self::next)).
/// It ends only when the transport shuts down. Dropping it unsubscribes.
pub struct Subscription {
    topic: String,
    stream: BoxStream<'static, Delivery>,
}

impl Subscription {
    /// Wraps a backend's delivery stream. The stream should release its subscription when dropped.
    pub fn new(
        topic: impl Into<String>,
        stream: impl Stream<Item = Delivery> + Send + 'static,
    ) -> Self {
        Self {
            topic: topic.into(),
            stream: stream.boxed(),
        }
    }

    /// The topic this subscription listens to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Waits for the next delivery; `None` once the transport has shut down.
    pub async fn next(&mut self) -> Option<Delivery> {
        self.stream.next().await
    }
}

impl Stream for Subscription {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        self.stream.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}
