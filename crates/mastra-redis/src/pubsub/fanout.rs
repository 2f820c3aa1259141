//! Fan-out over Redis pub/sub: one subscriber connection per `RedisPubSub`, one Redis
//! channel per topic, and a bounded local broadcast per channel for this process's readers.
//!
//! After the subscriber connection is lost and re-established, every channel is
//! subscribed again and then every reader gets `Delivery::Reconnected`, in that order, so
//! a catch-up from the log started on `Reconnected` overlaps with live delivery.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use fred::types::Message;
use mastra_pubsub::{Delivery, Event, PubSubError};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::JoinHandle;

use super::channel::Channel;
use crate::error::pubsub_error;

/// What a channel's local readers receive.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    Event(Arc<Event>),
    /// A consumer-group wake-up (`new` or `released`).
    Wake(Arc<str>),
    Lagged(u64),
    Reconnected,
}

/// Whether a channel carries events or group wake-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelKind {
    Events,
    Wake,
}

#[derive(Debug)]
pub(crate) struct Shared {
    subscriber: SubscriberClient,
    channels: Mutex<HashMap<String, Channel>>,
    /// Serializes `SUBSCRIBE`/`UNSUBSCRIBE` and resubscription after a reconnect.
    subscribing: tokio::sync::Mutex<()>,
    capacity: usize,
}

/// The fan-out side of a `RedisPubSub`; stops its tasks and closes its connection on drop.
#[derive(Debug)]
pub(crate) struct Fanout {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Fanout {
    pub(crate) fn new(subscriber: SubscriberClient, capacity: usize) -> Self {
        let messages = subscriber.message_rx();
        let reconnects = subscriber.reconnect_rx();
        let shared = Arc::new(Shared {
            subscriber,
            channels: Mutex::new(HashMap::new()),
            subscribing: tokio::sync::Mutex::new(()),
            capacity,
        });
        let tasks = vec![
            tokio::spawn(dispatch(Arc::clone(&shared), messages)),
            tokio::spawn(resubscribe(Arc::clone(&shared), reconnects)),
        ];
        Self { shared, tasks }
    }

    /// A new local reader of `channel`, subscribing to it in Redis first when it is the
    /// channel's first reader. Returns once Redis confirmed the subscription.
    pub(crate) async fn subscribe(
        &self,
        channel: &str,
        kind: ChannelKind,
    ) -> Result<Reader, PubSubError> {
        let shared = &self.shared;
        let _serialized = shared.subscribing.lock().await;
        let (receiver, first) = {
            let mut channels = lock(&shared.channels);
            let entry = channels
                .entry(channel.to_owned())
                .or_insert_with(|| Channel::new(kind, shared.capacity));
            entry.readers += 1;
            (entry.sender.subscribe(), entry.readers == 1)
        };
        let reader = Reader {
            receiver,
            shared: Arc::downgrade(shared),
            channel: channel.to_owned(),
        };
        if first {
            // On failure, dropping the reader undoes the registration. Commands on one
            // connection run in order: once the PING sent right behind the SUBSCRIBE (in
            // the same round trip) is answered, Redis has registered the subscription, so
            // nothing published from now on is missed.
            let subscriber = &shared.subscriber;
            let (subscribed, pinged) = tokio::join!(
                subscriber.subscribe(channel),
                subscriber.ping::<fred::types::Value>(None),
            );
            subscribed.map_err(pubsub_error)?;
            pinged.map_err(pubsub_error)?;
            if let Some(entry) = lock(&shared.channels).get_mut(channel) {
                entry.subscribed = true;
            }
        }
        Ok(reader)
    }

    /// Delivers `event` to this process's readers of `channel` only, after this
    /// process's earlier publishes on the channel.
    pub(crate) fn deliver_locally(&self, channel: &str, event: Event) {
        if let Some(entry) = lock(&self.shared.channels).get_mut(channel) {
            entry.deliver_local(event);
        }
    }

    /// Notes that this process is about to publish event `id` on `channel`.
    pub(crate) fn sending(&self, channel: &str, id: &str) {
        if let Some(entry) = lock(&self.shared.channels).get_mut(channel) {
            entry.sending(id);
        }
    }

    /// Notes that publishing event `id` on `channel` failed.
    pub(crate) fn failed(&self, channel: &str, id: &str) {
        if let Some(entry) = lock(&self.shared.channels).get_mut(channel) {
            entry.failed(id);
        }
    }

    /// The subscriber connection's client.
    pub(crate) fn subscriber(&self) -> &SubscriberClient {
        &self.shared.subscriber
    }
}

impl Drop for Fanout {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let subscriber = self.shared.subscriber.clone();
            runtime.spawn(async move {
                let _ = subscriber.quit().await;
            });
        }
    }
}

/// One local reader of a channel; unsubscribes from Redis when the channel's last reader goes.
#[derive(Debug)]
pub(crate) struct Reader {
    receiver: broadcast::Receiver<Item>,
    shared: Weak<Shared>,
    channel: String,
}

impl Reader {
    /// The next item; `None` once the transport is gone.
    pub(crate) async fn recv(&mut self) -> Option<Item> {
        match self.receiver.recv().await {
            Ok(item) => Some(item),
            Err(RecvError::Lagged(missed)) => Some(Item::Lagged(missed)),
            Err(RecvError::Closed) => None,
        }
    }

    /// The next fan-out delivery (wake-ups are skipped).
    pub(crate) async fn next_delivery(&mut self) -> Option<Delivery> {
        loop {
            return match self.recv().await? {
                Item::Event(event) => Some(Delivery::Event(event)),
                Item::Lagged(missed) => Some(Delivery::Lagged { missed }),
                Item::Reconnected => Some(Delivery::Reconnected),
                Item::Wake(_) => continue,
            };
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let last = {
            let mut channels = lock(&shared.channels);
            match channels.get_mut(&self.channel) {
                Some(entry) if entry.readers <= 1 => {
                    channels.remove(&self.channel);
                    true
                }
                Some(entry) => {
                    entry.readers -= 1;
                    false
                }
                None => false,
            }
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if last {
            let channel = std::mem::take(&mut self.channel);
            runtime.spawn(async move {
                let _serialized = shared.subscribing.lock().await;
                // A reader that arrived meanwhile keeps the subscription.
                if !lock(&shared.channels).contains_key(&channel) {
                    let _ = shared.subscriber.unsubscribe(channel).await;
                }
            });
        }
    }
}

/// Routes every message of the subscriber connection to its channel's readers.
async fn dispatch(shared: Arc<Shared>, mut messages: broadcast::Receiver<Message>) {
    loop {
        match messages.recv().await {
            Ok(message) => shared.route(message),
            // fred's own buffer overflowed: every reader may have missed something.
            Err(RecvError::Lagged(missed)) => shared.to_all(Item::Lagged(missed)),
            Err(RecvError::Closed) => return,
        }
    }
}

/// After each reconnect: subscribe every channel again, then tell every reader.
async fn resubscribe(
    shared: Arc<Shared>,
    mut reconnects: broadcast::Receiver<fred::types::config::Server>,
) {
    loop {
        match reconnects.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
        let serialized = shared.subscribing.lock().await;
        let channels: Vec<String> = lock(&shared.channels).keys().cloned().collect();
        let mut attempt = 0u32;
        while !channels.is_empty() {
            // As in `subscribe`: the PING answer proves the subscriptions are in place.
            let outcome = match shared.subscriber.subscribe(channels.clone()).await {
                Ok(()) => shared
                    .subscriber
                    .ping::<fred::types::Value>(None)
                    .await
                    .map(drop),
                Err(error) => Err(error),
            };
            let Err(error) = outcome else { break };
            tracing::warn!(%error, "resubscribing after a reconnect failed");
            attempt = attempt.saturating_add(1);
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt.min(40)))).await;
        }
        drop(serialized);
        shared.to_all(Item::Reconnected);
    }
}

impl Shared {
    fn route(&self, message: Message) {
        let kind = lock(&self.channels)
            .get(&*message.channel)
            .map(|entry| entry.kind);
        let Some(kind) = kind else {
            return;
        };
        // Decode outside the lock; deliver under it, in order with local events.
        let item = match kind {
            ChannelKind::Wake => Item::Wake(message.value.as_str().unwrap_or_default().into()),
            ChannelKind::Events => match message.value.as_bytes().map(serde_json::from_slice) {
                Some(Ok(event)) => Item::Event(Arc::new(event)),
                _ => {
                    // Reported as a miss so the caching layer reads the event from the log.
                    tracing::warn!(channel = &*message.channel, "undecodable live event");
                    Item::Lagged(1)
                }
            },
        };
        if let Some(entry) = lock(&self.channels).get_mut(&*message.channel) {
            match item {
                Item::Event(event) => entry.deliver_remote(event),
                other => entry.deliver_signal(other),
            }
        }
    }

    fn to_all(&self, item: Item) {
        for entry in lock(&self.channels).values_mut() {
            entry.deliver_signal(item.clone());
        }
    }
}
