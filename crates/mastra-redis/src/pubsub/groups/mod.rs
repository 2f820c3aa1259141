//! Consumer groups on Redis Streams: one stream per topic (created when the first group
//! joins), `XREADGROUP` for new messages, `XACK` on ack, and pending-message reclaim
//! (`XAUTOCLAIM`) for nacks and for messages of consumers that died.
//!
//! Each member waits for new messages in a blocking `XREADGROUP` on a connection of its
//! own: Redis gives a new entry to one blocked member, so a message costs one read
//! however many members are idle, and reaches a member without a wake-up round. The
//! read times out every second (or half the command timeout), which is also when an idle
//! member looks for abandoned messages; the topic's wake channel still tells members at
//! once about released ones. A member only reads when its reader asks for the next
//! message, so a member that is never polled takes nothing new.

mod read;
mod settle;

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use fred::clients::Client;
use fred::error::Error as FredError;
use fred::interfaces::ClientLike;
use fred::types::{CustomCommand, Value};
use mastra_pubsub::{Event, GroupMessage};
use tokio::time::Instant;

use super::fanout::{Item, Reader};
use super::replies::decode;
use crate::RedisConnection;
use settle::{release_later, Settle};

/// Messages fetched per read.
const BATCH: u32 = 32;
/// How long an idle member's read blocks (at most half the command timeout).
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
pub(crate) struct Member {
    connection: RedisConnection,
    /// This member's own connection, for its blocking reads.
    reader: Client,
    keys: GroupKeys,
    consumer: String,
    wake: Reader,
    fetched: VecDeque<(String, Event)>,
    /// The blocking read in progress, if any (kept across calls: never abandoned).
    reading: Option<read::Reading>,
    reclaim_due: bool,
    next_reclaim: Instant,
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("keys", &self.keys)
            .field("consumer", &self.consumer)
            .field("fetched", &self.fetched.len())
            .field("reading", &self.reading.is_some())
            .finish_non_exhaustive()
    }
}

impl Member {
    pub(crate) fn new(
        connection: RedisConnection,
        reader: Client,
        keys: GroupKeys,
        wake: Reader,
    ) -> Self {
        Self {
            connection,
            reader,
            keys,
            consumer: uuid::Uuid::new_v4().to_string(),
            wake,
            fetched: VecDeque::new(),
            reading: None,
            reclaim_due: false,
            next_reclaim: Instant::now(),
        }
    }

    pub(crate) async fn next(&mut self) -> Option<GroupMessage> {
        let mut failures = 0u32;
        loop {
            if let Some((id, event)) = self.fetched.pop_front() {
                return Some(self.hand_out(id, event));
            }
            if self.reclaim_due || Instant::now() >= self.next_reclaim {
                self.reclaim().await;
                if !self.fetched.is_empty() {
                    continue;
                }
            }
            let reading = match &mut self.reading {
                Some(reading) => reading,
                None => self.reading.insert(self.start_read()),
            };
            tokio::select! {
                outcome = reading.as_mut() => {
                    self.reading = None;
                    match outcome {
                        Ok(entries) => {
                            failures = 0;
                            self.take(entries).await;
                        }
                        Err(error) => {
                            failures = failures.saturating_add(1);
                            self.failed(&error, failures).await;
                        }
                    }
                }
                item = self.wake.recv() => match item? {
                    Item::Wake(kind) if &*kind == "released" => self.reclaim_due = true,
                    Item::Reconnected | Item::Lagged(_) => self.reclaim_due = true,
                    // `new`: the blocking read takes new messages by itself.
                    _ => {}
                },
            }
        }
    }

    fn start_read(&self) -> read::Reading {
        let block = POLL.min(self.connection.config().command_timeout / 2);
        let (keys, consumer) = (self.keys.clone(), self.consumer.clone());
        read::start(self.reader.clone(), keys, consumer, block)
    }

    /// Queues what a read got; entries nobody can decode are acknowledged, so that they
    /// are not reclaimed forever.
    async fn take(&mut self, entries: read::Entries) {
        let mut undecodable: Vec<Value> = Vec::new();
        for (id, fields) in entries {
            match decode(&fields, 1) {
                Some(event) => self.fetched.push_back((id, event)),
                None => undecodable.push(id.into()),
            }
        }
        if !undecodable.is_empty() {
            let mut args: Vec<Value> = vec![
                self.keys.stream.as_str().into(),
                self.keys.group.as_str().into(),
            ];
            args.extend(undecodable);
            let client = self.connection.client();
            if let Err(error) = client.custom::<Value, _>(command("XACK"), args).await {
                tracing::warn!(%error, stream = %self.keys.stream, "cannot drop undecodable messages");
            }
        }
    }

    async fn failed(&mut self, error: &FredError, failures: u32) {
        tracing::warn!(%error, stream = %self.keys.stream, "group read failed");
        if error.details().contains("NOGROUP") {
            // The stream expired or was cleared while this member lives.
            let ttl = super::millis(self.connection.config().stream_ttl);
            let _ = create_group(self.connection.client(), &self.keys, &ttl).await;
        }
        let backoff = Duration::from_millis(50 * u64::from(failures.min(20)));
        tokio::time::sleep(backoff).await;
    }

    /// Takes over released messages and those of consumers that died.
    async fn reclaim(&mut self) {
        self.reclaim_due = false;
        self.next_reclaim = Instant::now() + self.connection.config().claim_timeout / 2;
        match read::reclaim(&self.connection, &self.keys, &self.consumer).await {
            Ok(claimed) => {
                for (id, fields, attempt) in claimed {
                    if let Some(event) = decode(&fields, attempt) {
                        self.fetched.push_back((id, event));
                    }
                }
            }
            Err(error) => {
                // Tried again at the next wake-up or period.
                tracing::warn!(%error, stream = %self.keys.stream, "group reclaim failed");
            }
        }
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
        release_later(&self.connection, &self.keys, &self.consumer, ids);
        let reader = self.reader.clone();
        match self.reading.take() {
            // It releases what it takes, then closes the connection.
            Some(reading) => {
                let (keys, consumer) = (self.keys.clone(), self.consumer.clone());
                read::finish_abandoned(reading, reader, self.connection.clone(), keys, consumer);
            }
            None => {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        let _ = reader.quit().await;
                    });
                }
            }
        }
    }
}
