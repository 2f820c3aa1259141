//! Consumer groups of the in-process transport: competing members, ack and nack.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::hub::{lock, GroupEntry, GroupQueue, Hub};
use crate::{Acknowledger, Event, GroupMessage, GroupSubscription, PubSubError};

/// One member of a group; leaving the group when dropped.
#[derive(Debug)]
struct Member {
    queue: Arc<GroupQueue>,
    hub: Arc<Hub>,
    topic: String,
    group: String,
}

impl Member {
    async fn next(&self) -> GroupMessage {
        loop {
            if let Some(event) = self.queue.pop() {
                let settle = Settle {
                    queue: Arc::clone(&self.queue),
                    unsettled: Mutex::new(Some(event.clone())),
                };
                return GroupMessage::new(event, Box::new(settle));
            }
            // A push stores a permit when nobody waits, so no wake-up is lost between
            // the empty pop above and this wait.
            self.queue.ready.notified().await;
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let group = self.group.clone();
        self.hub.release(&self.topic, |entry| {
            let empty = entry.groups.get_mut(&group).is_some_and(|g| {
                g.members = g.members.saturating_sub(1);
                g.members == 0
            });
            if empty {
                entry.groups.remove(&group);
            }
        });
    }
}

/// Settles one delivered message; an unsettled message is redelivered when dropped.
#[derive(Debug)]
struct Settle {
    queue: Arc<GroupQueue>,
    unsettled: Mutex<Option<Event>>,
}

impl Settle {
    fn redeliver(&self) {
        if let Some(mut event) = lock(&self.unsettled).take() {
            event.delivery_attempt = Some(event.delivery_attempt.unwrap_or(1).saturating_add(1));
            self.queue.push(event);
        }
    }
}

#[async_trait]
impl Acknowledger for Settle {
    async fn ack(&self) -> Result<(), PubSubError> {
        lock(&self.unsettled).take();
        Ok(())
    }

    async fn nack(&self) -> Result<(), PubSubError> {
        self.redeliver();
        Ok(())
    }
}

impl Drop for Settle {
    fn drop(&mut self) {
        self.redeliver();
    }
}

pub(super) fn join(hub: &Arc<Hub>, topic: &str, group: &str) -> GroupSubscription {
    let queue = hub.with_topic(topic, |entry| {
        let member = entry
            .groups
            .entry(group.to_owned())
            .or_insert_with(|| GroupEntry {
                queue: Arc::new(GroupQueue::default()),
                members: 0,
            });
        member.members += 1;
        Arc::clone(&member.queue)
    });
    let member = Member {
        queue,
        hub: Arc::clone(hub),
        topic: topic.to_owned(),
        group: group.to_owned(),
    };
    let stream = futures::stream::unfold(member, |member| async move {
        let message = member.next().await;
        Some((message, member))
    });
    GroupSubscription::new(topic, group, stream)
}
