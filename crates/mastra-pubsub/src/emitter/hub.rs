//! The shared topic table of the in-process transport.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use tokio::sync::{broadcast, Notify};

use crate::Event;

/// Topics with live fan-out readers or consumer groups. A topic nobody listens to has no
/// entry, so publishing to it costs one map lookup and retains nothing.
#[derive(Debug)]
pub(crate) struct Hub {
    capacity: usize,
    topics: RwLock<HashMap<String, Topic>>,
}

#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) fanout: broadcast::Sender<Arc<Event>>,
    pub(crate) groups: HashMap<String, GroupEntry>,
}

#[derive(Debug)]
pub(crate) struct GroupEntry {
    pub(crate) queue: Arc<GroupQueue>,
    pub(crate) members: usize,
}

/// The pending messages of one consumer group; members compete for them.
#[derive(Debug, Default)]
pub(crate) struct GroupQueue {
    messages: Mutex<VecDeque<Event>>,
    pub(crate) ready: Notify,
}

impl GroupQueue {
    pub(crate) fn push(&self, event: Event) {
        lock(&self.messages).push_back(event);
        self.ready.notify_one();
    }

    pub(crate) fn pop(&self) -> Option<Event> {
        lock(&self.messages).pop_front()
    }

    fn clear(&self) {
        lock(&self.messages).clear();
    }
}

/// Locks a mutex, ignoring poisoning: every critical section here leaves its data consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            topics: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn publish(&self, topic: &str, event: Event) {
        let topics = self.topics.read().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = topics.get(topic) else {
            return;
        };
        for group in entry.groups.values() {
            let mut copy = event.clone();
            copy.delivery_attempt = Some(1);
            group.queue.push(copy);
        }
        if entry.fanout.receiver_count() > 0 {
            // Fails only when every receiver is gone, which the check above rules out
            // but a concurrent drop may not: then nobody is left to miss the event.
            let _ = entry.fanout.send(Arc::new(event));
        }
    }

    /// Runs `f` on the topic's entry, creating it when missing.
    pub(crate) fn with_topic<R>(&self, topic: &str, f: impl FnOnce(&mut Topic) -> R) -> R {
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        let entry = topics.entry(topic.to_owned()).or_insert_with(|| Topic {
            fanout: broadcast::channel(self.capacity).0,
            groups: HashMap::new(),
        });
        f(entry)
    }

    /// Runs `f` on the topic's entry if it exists, then drops the entry if nobody uses it.
    pub(crate) fn release(&self, topic: &str, f: impl FnOnce(&mut Topic)) {
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = topics.get_mut(topic) {
            f(entry);
            if entry.fanout.receiver_count() == 0 && entry.groups.is_empty() {
                topics.remove(topic);
            }
        }
    }

    pub(crate) fn clear_pending(&self, topic: &str) {
        let topics = self.topics.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = topics.get(topic) {
            for group in entry.groups.values() {
                group.queue.clear();
            }
        }
    }

    pub(crate) fn subscriber_count(&self, topic: &str) -> usize {
        let topics = self.topics.read().unwrap_or_else(PoisonError::into_inner);
        topics
            .get(topic)
            .map_or(0, |entry| entry.fanout.receiver_count())
    }

    pub(crate) fn topic_count(&self) -> usize {
        self.topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
