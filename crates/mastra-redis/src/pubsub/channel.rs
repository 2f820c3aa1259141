//! One Redis channel's local side: the broadcast to this process's readers, and the
//! ordering of `local_only` events behind this process's own publishes.
//!
//! A remote publish reaches local readers only after a round trip through Redis, while a
//! `local_only` event is delivered at once; without care the second could overtake the
//! first. So each remote publish on a channel with local readers is noted (by event id)
//! before it is sent, and a `local_only` event waits until the publishes noted before it
//! have come back through the subscriber connection (or failed, or a reconnect or lag
//! made their fate unknowable).

use std::collections::VecDeque;
use std::sync::Arc;

use mastra_pubsub::Event;
use tokio::sync::broadcast;

use super::fanout::{ChannelKind, Item};

#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) sender: broadcast::Sender<Item>,
    pub(crate) kind: ChannelKind,
    pub(crate) readers: usize,
    /// Whether Redis confirmed the subscription (only then do own publishes come back).
    pub(crate) subscribed: bool,
    /// Own publishes sent but not yet seen back: (sequence, event id).
    in_flight: VecDeque<(u64, String)>,
    /// Local-only events waiting for every own publish up to their sequence.
    held: VecDeque<(u64, Event)>,
    next_sequence: u64,
}

impl Channel {
    pub(crate) fn new(kind: ChannelKind, capacity: usize) -> Self {
        Self {
            sender: broadcast::channel(capacity).0,
            kind,
            readers: 0,
            subscribed: false,
            in_flight: VecDeque::new(),
            held: VecDeque::new(),
            next_sequence: 0,
        }
    }

    /// Notes an own publish of `id` about to be sent.
    pub(crate) fn sending(&mut self, id: &str) {
        if self.subscribed {
            self.next_sequence += 1;
            self.in_flight
                .push_back((self.next_sequence, id.to_owned()));
        }
    }

    /// An own publish of `id` failed: it will not come back. Local readers are told they
    /// missed an event, so observers read it from the log (where it already is).
    pub(crate) fn failed(&mut self, id: &str) {
        self.forget(id);
        self.release_held();
        self.send(Item::Lagged(1));
    }

    /// Delivers a `local_only` event now, or once the own publishes before it are back.
    pub(crate) fn deliver_local(&mut self, event: Event) {
        match self.in_flight.back() {
            None => self.send(Item::Event(Arc::new(event))),
            Some(&(sequence, _)) => self.held.push_back((sequence, event)),
        }
    }

    /// Delivers an event that came through Redis.
    pub(crate) fn deliver_remote(&mut self, event: Arc<Event>) {
        let own = self.forget(&event.id);
        self.send(Item::Event(event));
        if own {
            self.release_held();
        }
    }

    /// Delivers a signal; after a reconnect or a lag, in-flight publishes are unknowable,
    /// so held events go out at once.
    pub(crate) fn deliver_signal(&mut self, item: Item) {
        if matches!(item, Item::Lagged(_) | Item::Reconnected) {
            self.in_flight.clear();
            self.release_held();
        }
        self.send(item);
    }

    fn send(&self, item: Item) {
        // Fails only when no reader is left, and then nobody misses the item.
        let _ = self.sender.send(item);
    }

    fn forget(&mut self, id: &str) -> bool {
        match self.in_flight.iter().position(|(_, own)| own == id) {
            Some(position) => {
                self.in_flight.remove(position);
                true
            }
            None => false,
        }
    }

    fn release_held(&mut self) {
        let oldest_in_flight = self.in_flight.front().map(|&(sequence, _)| sequence);
        while let Some(&(waits_for, _)) = self.held.front() {
            if oldest_in_flight.is_some_and(|oldest| oldest <= waits_for) {
                return;
            }
            if let Some((_, event)) = self.held.pop_front() {
                self.send(Item::Event(Arc::new(event)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mastra_pubsub::EventType;

    fn event(n: u64) -> Event {
        Event::new(EventType::Chunk, "run", serde_json::json!({ "n": n }))
    }

    fn received(receiver: &mut broadcast::Receiver<Item>) -> Vec<u64> {
        let mut out = Vec::new();
        while let Ok(item) = receiver.try_recv() {
            if let Item::Event(event) = item {
                out.push(event.data["n"].as_u64().unwrap_or_default());
            }
        }
        out
    }

    #[test]
    fn local_events_wait_for_own_publishes_sent_before_them() {
        let mut channel = Channel::new(ChannelKind::Events, 16);
        channel.subscribed = true;
        let mut receiver = channel.sender.subscribe();
        let (first, second) = (event(0), event(1));
        channel.sending(&first.id);
        channel.deliver_local(event(2));
        channel.sending(&second.id);
        channel.deliver_local(event(3));
        assert!(received(&mut receiver).is_empty());
        channel.deliver_remote(Arc::new(first));
        assert_eq!(received(&mut receiver), vec![0, 2]);
        channel.failed(&second.id);
        assert_eq!(received(&mut receiver), vec![3]);
        channel.deliver_local(event(4));
        assert_eq!(received(&mut receiver), vec![4]);
    }
}
