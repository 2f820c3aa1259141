//! Fan-out subscriptions of the in-process transport.

use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};

use super::hub::Hub;
use crate::{Delivery, Event, Subscription};

/// One reader of a topic's broadcast channel; leaving the topic when dropped.
#[derive(Debug)]
struct Reader {
    receiver: Option<broadcast::Receiver<Arc<Event>>>,
    hub: Arc<Hub>,
    topic: String,
}

impl Reader {
    async fn next(&mut self) -> Option<Delivery> {
        let receiver = self.receiver.as_mut()?;
        match receiver.recv().await {
            Ok(event) => Some(Delivery::Event(event)),
            Err(RecvError::Lagged(missed)) => Some(Delivery::Lagged { missed }),
            Err(RecvError::Closed) => None,
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // Drop the receiver first so the topic sees one reader fewer.
        drop(self.receiver.take());
        self.hub.release(&self.topic, |_| {});
    }
}

pub(super) fn subscribe(hub: &Arc<Hub>, topic: &str) -> Subscription {
    let receiver = hub.with_topic(topic, |entry| entry.fanout.subscribe());
    let reader = Reader {
        receiver: Some(receiver),
        hub: Arc::clone(hub),
        topic: topic.to_owned(),
    };
    let stream = futures::stream::unfold(reader, |mut reader| async move {
        let delivery = reader.next().await?;
        Some((delivery, reader))
    });
    Subscription::new(topic, stream)
}
