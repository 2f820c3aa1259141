//! The task of one busy topic: take what is queued, append it in one batch (retrying in
//! place), publish each event with its index, settle, and repeat until the queue is empty.

use std::sync::Arc;

use super::{
    lock, write_failed, Item, Shared, FIRST_BACKOFF, MAX_BATCH, MAX_BATCH_BYTES, WRITE_ATTEMPTS,
};
use crate::DurableError;

pub(super) async fn drain(shared: Arc<Shared>, topic: String) {
    loop {
        let batch = {
            let mut topics = lock(&shared.topics);
            let Some(queue) = topics.get_mut(&topic) else {
                return;
            };
            if queue.items.is_empty() {
                // Under the lock: a producer arriving now creates a new queue and task.
                topics.remove(&topic);
                return;
            }
            take_batch(&mut queue.items)
        };
        write(&shared, &topic, batch).await;
    }
}

/// The items at the front of the queue, up to the batch bounds (barriers ride along).
fn take_batch(items: &mut std::collections::VecDeque<Item>) -> Vec<Item> {
    let (mut events, mut bytes) = (0, 0);
    let mut batch = Vec::new();
    while let Some(item) = items.front() {
        if let Item::Event { entry, .. } = item {
            let size = entry.as_ref().map_or(0, String::len);
            if events > 0 && (events == MAX_BATCH || bytes + size > MAX_BATCH_BYTES) {
                break;
            }
            events += 1;
            bytes += size;
        }
        match items.pop_front() {
            Some(item) => batch.push(item),
            None => break,
        }
    }
    batch
}

async fn write(shared: &Shared, topic: &str, mut batch: Vec<Item>) {
    // The entries move out of their items; an emptied `Some` still marks "logged".
    let entries: Vec<String> = batch
        .iter_mut()
        .filter_map(|item| match item {
            Item::Event {
                entry: Some(entry), ..
            } => Some(std::mem::take(entry)),
            _ => None,
        })
        .collect();
    let first = match entries.is_empty() {
        true => Ok(0),
        false => append(shared, topic, &entries).await,
    };
    match first {
        Ok(first) => publish(shared, topic, batch, first).await,
        Err(error) => fail(shared, topic, batch, error),
    }
}

/// Appends the batch, retrying retryable failures with backoff. A retry first looks for
/// the batch at the log's end: an attempt whose reply was lost may have landed.
async fn append(shared: &Shared, topic: &str, entries: &[String]) -> Result<u64, DurableError> {
    let log = &shared.log;
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        let outcome = match attempt {
            1 => log.append_entries(topic, entries).await,
            _ => match log.find_tail(topic, entries).await {
                Ok(Some(first)) => Ok(first),
                Ok(None) => log.append_entries(topic, entries).await,
                Err(error) => Err(error),
            },
        };
        match outcome {
            Err(error) if error.is_retryable() && attempt < WRITE_ATTEMPTS => {
                tracing::warn!(topic, attempt, %error, "appending to a run log failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// Publishes each event live with its index, in order, and settles it.
async fn publish(shared: &Shared, topic: &str, batch: Vec<Item>, first: u64) {
    let mut next = first;
    for item in batch {
        match item {
            Item::Event {
                mut event,
                entry,
                options,
                done,
                _permit,
            } => {
                let index = entry.map(|_| {
                    next += 1;
                    next - 1
                });
                event.index = index;
                let published = shared.transport.publish(topic, event, options).await;
                done.settle(published.map(|()| index).map_err(DurableError::from));
            }
            Item::Barrier(tx) => {
                let _ = tx.send(Ok(()));
            }
        }
    }
}

/// A batch that could not be logged: it fails, and so does everything queued behind it
/// (settled under the map's lock, so that a producer who lost an event cannot queue
/// another one before it learns). Nothing of it is published.
fn fail(shared: &Shared, topic: &str, batch: Vec<Item>, error: DurableError) {
    tracing::error!(topic, %error, "cannot log a run's events; failing them");
    let cause = Arc::new(error);
    let settle = |item: Item| match item {
        Item::Event { done, .. } => done.settle(Err(write_failed(topic, cause.clone()))),
        Item::Barrier(tx) => {
            let _ = tx.send(Err(write_failed(topic, cause.clone())));
        }
    };
    batch.into_iter().for_each(settle);
    let mut topics = lock(&shared.topics);
    if let Some(queue) = topics.get_mut(topic) {
        queue.items.drain(..).for_each(settle);
    }
}
