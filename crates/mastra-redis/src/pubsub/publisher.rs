//! Ordered, pipelined publishing. `publish` queues the event and returns; one task sends
//! whatever is queued as one pipeline (one round trip), waits for the replies, and
//! repeats. Events therefore reach Redis in publish order, and a producer's next log
//! append overlaps with the previous event's publish: that halves the round trips per
//! event (the append must still be awaited, since it allocates the index).
//!
//! The log is written before the publish is queued, so a publish that fails loses
//! nothing: observers catch up from the log. Failures are logged, reported by the next
//! `flush`, and release any `local_only` event waiting behind them.

use std::sync::Arc;

use fred::interfaces::ClientLike;
use fred::types::{CustomCommand, Value};
use mastra_pubsub::PubSubError;
use tokio::sync::{mpsc, oneshot};

use super::fanout::Fanout;
use crate::RedisConnection;

/// Publishes sent per pipeline at most.
const BATCH: usize = 512;

/// One queued publish: the script's key and arguments, and what local ordering needs.
#[derive(Debug)]
pub(crate) struct Publish {
    pub(crate) stream: String,
    pub(crate) args: Vec<Value>,
    pub(crate) channel: String,
    pub(crate) id: String,
}

#[derive(Debug)]
enum Job {
    Publish(Publish),
    Flush(oneshot::Sender<Option<String>>),
}

/// The queue of one `RedisPubSub`; its task ends once the queue is dropped and drained.
#[derive(Debug)]
pub(crate) struct Publisher {
    queue: mpsc::UnboundedSender<Job>,
}

impl Publisher {
    pub(crate) fn new(connection: RedisConnection, fanout: Arc<Fanout>) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run(connection, fanout, jobs));
        Self { queue }
    }

    /// Queues a publish; it reaches Redis after every publish queued before it.
    pub(crate) fn publish(&self, publish: Publish) -> Result<(), PubSubError> {
        self.queue
            .send(Job::Publish(publish))
            .map_err(|_| PubSubError::Closed)
    }

    /// Waits until every publish queued so far got Redis's reply; fails when one of the
    /// publishes since the last flush failed.
    pub(crate) async fn flush(&self) -> Result<(), PubSubError> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Job::Flush(done))
            .map_err(|_| PubSubError::Closed)?;
        match outcome.await {
            Ok(None) => Ok(()),
            Ok(Some(failure)) => Err(PubSubError::Unavailable(failure)),
            Err(_) => Err(PubSubError::Closed),
        }
    }
}

async fn run(
    connection: RedisConnection,
    fanout: Arc<Fanout>,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    let mut failure: Option<String> = None;
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let publishes: Vec<&Publish> = batch
            .iter()
            .filter_map(|job| match job {
                Job::Publish(publish) => Some(publish),
                Job::Flush(_) => None,
            })
            .collect();
        if !publishes.is_empty() {
            for (publish, error) in send(&connection, &publishes).await {
                tracing::warn!(channel = %publish.channel, %error, "publish failed");
                fanout.failed(&publish.channel, &publish.id);
                failure.get_or_insert(error);
            }
        }
        for job in batch {
            if let Job::Flush(done) = job {
                let _ = done.send(failure.take());
            }
        }
    }
}

/// Sends `publishes` as one pipeline; returns the ones that failed, with why.
async fn send<'a>(
    connection: &RedisConnection,
    publishes: &[&'a Publish],
) -> Vec<(&'a Publish, String)> {
    let script = &connection.scripts().publish;
    let client = connection.client();
    let pipeline = client.pipeline();
    for publish in publishes {
        let mut args: Vec<Value> = Vec::with_capacity(publish.args.len() + 3);
        args.push(script.sha1().into());
        args.push(1.into());
        args.push(publish.stream.as_str().into());
        args.extend(publish.args.iter().cloned());
        // Queuing into a pipeline only fails for arguments that cannot be encoded.
        let _ = pipeline
            .custom::<Value, _>(CustomCommand::new_static("EVALSHA", None, false), args)
            .await;
    }
    let replies = pipeline.try_all::<Value>().await;
    let mut failed = Vec::new();
    let mut reloaded = false;
    for (publish, reply) in publishes.iter().zip(replies) {
        let Err(error) = reply else { continue };
        if error.details().starts_with("NOSCRIPT") {
            // The script was flushed from Redis: load it and send this one again.
            if !reloaded {
                reloaded = script.load(client).await.is_ok();
            }
            if let Err(error) = script
                .run(client, publish.stream.as_str(), publish.args.clone())
                .await
            {
                failed.push((*publish, error.to_string()));
            }
        } else {
            failed.push((*publish, error.to_string()));
        }
    }
    failed
}
