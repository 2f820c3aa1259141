//! Consumer groups on Redis Streams: one stream per topic (created when the first group
//! joins), `XREADGROUP` for new messages, `XACK` on ack, and pending-message reclaim
//! (`XAUTOCLAIM`) for nacks and for messages of consumers that died.
//!
//! Members read without blocking a connection: they wait on the topic's wake channel
//! (published by the same script that adds to the stream) and poll once a second in case
//! a wake-up was lost. A member only reads when its reader asks for the next message, so
//! a member that is never polled takes nothing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use fred::clients::Client;
use fred::error::Error as FredError;
use fred::interfaces::ClientLike;
use fred::types::{CustomCommand, Value};
use mastra_pubsub::{Acknowledger, Event, GroupMessage, PubSubError};
use tokio::time::Instant;

use super::fanout::{Item, Reader};
use super::replies::{array, decode, read_entries};
use crate::error::pubsub_error;
use crate::RedisConnection;

/// Messages fetched per read.
const BATCH: u32 = 32;
/// How often an idle member looks for messages anyway.
const POLL: Duration = Duration::from_secs(1);

/// Where a group lives in Redis.
#[derive(Debug, Clone)]
pub(crate) struct GroupKeys {
    pub(crate) stream: String,
    pub(crate) wake: String,
    pub(crate) group: String,
}

fn command(name: &'static str) -> CustomCommand {
    CustomCommand::new_static(name, None, false)
}

/// Creates the group at the stream's end (and the stream), unless it exists, and
/// refreshes the stream's idle lifetime.
pub(crate) async fn create_group(
    client: &Client,
    keys: &GroupKeys,
    stream_ttl: &str,
) -> Result<(), FredError> {
    let args: Vec<Value> = vec![
        "CREATE".into(),
        keys.stream.as_str().into(),
        keys.group.as_str().into(),
        "$".into(),
        "MKSTREAM".into(),
    ];
    match client.custom::<Value, _>(command("XGROUP"), args).await {
        Err(error) if error.details().contains("BUSYGROUP") => {}
        outcome => outcome.map(drop)?,
    }
    let args: Vec<Value> = vec![keys.stream.as_str().into(), stream_ttl.into()];
    client
        .custom::<Value, _>(command("PEXPIRE"), args)
        .await
        .map(drop)
}

/// One member of a group.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) connection: RedisConnection,
    pub(crate) keys: GroupKeys,
    pub(crate) consumer: String,
    pub(crate) wake: Reader,
    pub(crate) fetched: VecDeque<(String, Event)>,
    pub(crate) reclaim_due: bool,
    pub(crate) next_reclaim: Instant,
}

impl Member {
    pub(crate) async fn next(&mut self) -> Option<GroupMessage> {
        let mut failures = 0u32;
        loop {
            if let Some((id, event)) = self.fetched.pop_front() {
                return Some(self.hand_out(id, event));
            }
            match self.fetch().await {
                Ok(true) => {
                    failures = 0;
                    continue;
                }
                Ok(false) => failures = 0,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, stream = %self.keys.stream, "group read failed");
                    if error.details().contains("NOGROUP") {
                        // The stream expired or was cleared while this member lives.
                        let ttl = super::millis(self.connection.config().stream_ttl);
                        let _ = create_group(self.connection.client(), &self.keys, &ttl).await;
                    }
                    let backoff = Duration::from_millis(50 * u64::from(failures.min(20)));
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            }
            tokio::select! {
                item = self.wake.recv() => match item? {
                    Item::Wake(kind) if &*kind == "released" => self.reclaim_due = true,
                    Item::Reconnected | Item::Lagged(_) => self.reclaim_due = true,
                    _ => {}
                },
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Reads new messages, or else reclaims released or abandoned ones; whether it got any.
    async fn fetch(&mut self) -> Result<bool, FredError> {
        let client = self.connection.client();
        let args: Vec<Value> = vec![
            "GROUP".into(),
            self.keys.group.as_str().into(),
            self.consumer.as_str().into(),
            "COUNT".into(),
            BATCH.into(),
            "STREAMS".into(),
            self.keys.stream.as_str().into(),
            ">".into(),
        ];
        let reply: Value = client.custom(command("XREADGROUP"), args).await?;
        let mut undecodable = Vec::new();
        for (id, fields) in read_entries(reply) {
            match decode(&fields, 1) {
                Some(event) => self.fetched.push_back((id, event)),
                None => undecodable.push(id),
            }
        }
        if !undecodable.is_empty() {
            // Nobody can handle them: acknowledge so they are not reclaimed forever.
            let mut args: Vec<Value> = vec![
                self.keys.stream.as_str().into(),
                self.keys.group.as_str().into(),
            ];
            args.extend(undecodable.into_iter().map(Value::from));
            client.custom::<Value, _>(command("XACK"), args).await?;
        }
        if self.fetched.is_empty() && (self.reclaim_due || Instant::now() >= self.next_reclaim) {
            self.reclaim_due = false;
            let claim_timeout = self.connection.config().claim_timeout;
            self.next_reclaim = Instant::now() + claim_timeout / 2;
            let millis = u64::try_from(claim_timeout.as_millis()).unwrap_or(u64::MAX);
            let args: Vec<Value> = vec![
                self.keys.group.as_str().into(),
                self.consumer.as_str().into(),
                millis.to_string().into(),
                BATCH.into(),
            ];
            let script = &self.connection.scripts().reclaim;
            let reply = script.run(client, self.keys.stream.as_str(), args).await?;
            for entry in array(reply) {
                let mut parts = array(entry).into_iter();
                let (Some(id), Some(fields), Some(deliveries)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let attempt = deliveries.as_u64().unwrap_or(2);
                if let (Some(id), Some(event)) = (id.as_string(), decode(&fields, attempt)) {
                    self.fetched.push_back((id, event));
                }
            }
        }
        Ok(!self.fetched.is_empty())
    }

    fn hand_out(&self, id: String, event: Event) -> GroupMessage {
        let settle = Settle {
            connection: self.connection.clone(),
            keys: self.keys.clone(),
            consumer: self.consumer.clone(),
            id,
            settled: AtomicBool::new(false),
        };
        GroupMessage::new(event, Box::new(settle))
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        // Messages fetched but never handed out go back to the group.
        let ids: Vec<String> = self.fetched.drain(..).map(|(id, _)| id).collect();
        if ids.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (connection, keys, consumer) = (
                self.connection.clone(),
                self.keys.clone(),
                self.consumer.clone(),
            );
            runtime.spawn(async move {
                let _ = release(&connection, &keys, &consumer, ids).await;
            });
        }
    }
}

/// Makes pending messages reclaimable at once and wakes the group's members.
async fn release(
    connection: &RedisConnection,
    keys: &GroupKeys,
    consumer: &str,
    ids: Vec<String>,
) -> Result<(), PubSubError> {
    let idle = connection.config().claim_timeout.saturating_mul(2) + Duration::from_secs(1);
    let idle = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
    let mut args: Vec<Value> = vec![
        keys.group.as_str().into(),
        consumer.into(),
        idle.to_string().into(),
        keys.wake.as_str().into(),
    ];
    args.extend(ids.into_iter().map(Value::from));
    let script = &connection.scripts().release;
    script
        .run(connection.client(), keys.stream.as_str(), args)
        .await
        .map(drop)
        .map_err(pubsub_error)
}

/// Settles one delivered message: `XACK`, or a release for another delivery.
#[derive(Debug)]
struct Settle {
    connection: RedisConnection,
    keys: GroupKeys,
    consumer: String,
    id: String,
    settled: AtomicBool,
}

#[async_trait]
impl Acknowledger for Settle {
    async fn ack(&self) -> Result<(), PubSubError> {
        self.settled.store(true, Ordering::SeqCst);
        let args: Vec<Value> = vec![
            self.keys.stream.as_str().into(),
            self.keys.group.as_str().into(),
            self.id.as_str().into(),
        ];
        self.connection
            .client()
            .custom::<Value, _>(command("XACK"), args)
            .await
            .map(drop)
            .map_err(pubsub_error)
    }

    async fn nack(&self) -> Result<(), PubSubError> {
        self.settled.store(true, Ordering::SeqCst);
        release(
            &self.connection,
            &self.keys,
            &self.consumer,
            vec![self.id.clone()],
        )
        .await
    }
}

impl Drop for Settle {
    fn drop(&mut self) {
        // Dropped unsettled: redeliver at once instead of after the claim timeout.
        if self.settled.load(Ordering::SeqCst) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (connection, keys, consumer, id) = (
                self.connection.clone(),
                self.keys.clone(),
                self.consumer.clone(),
                self.id.clone(),
            );
            runtime.spawn(async move {
                let _ = release(&connection, &keys, &consumer, vec![id]).await;
            });
        }
    }
}
