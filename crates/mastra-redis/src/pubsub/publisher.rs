//! Ordered publishing without a round trip of its own. `publish` hands the publish script
//! to the topic's connection at once (fred writes a connection's commands in the order
//! they are queued) and returns; one task awaits the replies in order. So events reach
//! Redis in publish order, and a producer's publish and its next log append, queued on the
//! same connection (see [`RedisConnection::lane`]), usually travel in one write and are
//! answered in one read: one round trip per event, where the append must be awaited
//! since it allocates the index.
//!
//! The log is written before the publish is queued, so a publish that fails loses
//! nothing: observers catch up from the log. Failures are logged, reported by the next
//! `flush`, and release any `local_only` event waiting behind them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use fred::clients::Client;
use fred::error::Error as FredError;
use fred::interfaces::ClientLike;
use fred::types::{CustomCommand, Value};
use mastra_pubsub::PubSubError;
use tokio::sync::{mpsc, oneshot};

use super::fanout::Fanout;
use crate::RedisConnection;

/// One publish: the script's key and arguments, the connection lane, and what local
/// ordering needs.
#[derive(Debug)]
pub(crate) struct Publish {
    pub(crate) stream: String,
    pub(crate) args: Vec<Value>,
    pub(crate) channel: String,
    pub(crate) id: String,
    /// The lane of the topic ([`RedisConnection::lane`]).
    pub(crate) lane: String,
}

type Reply = Pin<Box<dyn Future<Output = Result<Value, FredError>> + Send>>;

enum Job {
    /// A publish handed to its connection, with its pending reply.
    Sent(Publish, Reply),
    Flush(oneshot::Sender<Option<String>>),
}

/// The publishes of one `RedisPubSub`; its task ends once the queue is dropped and drained.
#[derive(Debug)]
pub(crate) struct Publisher {
    connection: RedisConnection,
    queue: mpsc::UnboundedSender<Job>,
}

impl Publisher {
    pub(crate) fn new(connection: RedisConnection, fanout: Arc<Fanout>) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run(connection.clone(), fanout, jobs));
        Self { connection, queue }
    }

    /// Sends a publish; it reaches Redis after every publish sent before it on the topic.
    pub(crate) fn publish(&self, publish: Publish) -> Result<(), PubSubError> {
        let client = self.connection.lane(&publish.lane).clone();
        let script = self.connection.scripts().publish.sha1().to_owned();
        let mut args: Vec<Value> = Vec::with_capacity(publish.args.len() + 3);
        args.push(script.into());
        args.push(1.into());
        args.push(publish.stream.as_str().into());
        args.extend(publish.args.iter().cloned());
        let mut reply: Reply = Box::pin(evalsha(client, args));
        // The first poll queues the command on the connection (nothing in fred's path
        // waits before that), which fixes its order; the task awaits the reply. Were a
        // first poll ever to queue nothing, the task's in-order awaiting would still send
        // the publishes in order.
        let mut context = Context::from_waker(futures::task::noop_waker_ref());
        if let Poll::Ready(outcome) = reply.as_mut().poll(&mut context) {
            reply = Box::pin(std::future::ready(outcome));
        }
        self.queue
            .send(Job::Sent(publish, reply))
            .map_err(|_| PubSubError::Closed)
    }

    /// Waits until every publish sent so far got Redis's reply; fails when one of the
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

async fn evalsha(client: Client, args: Vec<Value>) -> Result<Value, FredError> {
    client
        .custom::<Value, _>(CustomCommand::new_static("EVALSHA", None, false), args)
        .await
}

async fn run(
    connection: RedisConnection,
    fanout: Arc<Fanout>,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    let mut failure: Option<String> = None;
    while let Some(job) = jobs.recv().await {
        match job {
            Job::Sent(publish, reply) => {
                if let Err(error) = confirm(&connection, &publish, reply).await {
                    tracing::warn!(channel = %publish.channel, %error, "publish failed");
                    fanout.failed(&publish.channel, &publish.id);
                    failure.get_or_insert(error);
                }
            }
            Job::Flush(done) => {
                let _ = done.send(failure.take());
            }
        }
    }
}

/// Awaits a publish's reply. When Redis lost the script (`SCRIPT FLUSH`, a failover), it
/// is loaded and the publish sent again (after publishes already in flight: order is
/// kept only as far as Redis kept the script).
async fn confirm(
    connection: &RedisConnection,
    publish: &Publish,
    reply: Reply,
) -> Result<(), String> {
    match reply.await {
        Ok(_) => Ok(()),
        Err(error) if error.details().starts_with("NOSCRIPT") => {
            let script = &connection.scripts().publish;
            let client = connection.lane(&publish.lane);
            script
                .run(client, publish.stream.as_str(), publish.args.clone())
                .await
                .map(drop)
                .map_err(|error| error.to_string())
        }
        Err(error) => Err(error.to_string()),
    }
}
