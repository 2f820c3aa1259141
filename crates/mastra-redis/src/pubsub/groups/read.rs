//! A member's reads. New messages: `XREADGROUP ... BLOCK` on the member's own connection,
//! so Redis hands each new entry to exactly one idle member, the moment it is added (no
//! wake-up round, no read by every idle member). A read in progress is kept by its member
//! across wake-ups (never abandoned while the member lives), and finished by a task of its
//! own when the member is dropped, which releases what it took for the group. Reclaim of
//! released or abandoned messages (`XAUTOCLAIM`) runs on the shared pool.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use fred::clients::Client;
use fred::error::Error as FredError;
use fred::interfaces::ClientLike;
use fred::types::Value;

use super::{command, settle, GroupKeys, BATCH};
use crate::pubsub::replies::{array, read_entries};
use crate::RedisConnection;

/// Stream entries as read: id and fields.
pub(super) type Entries = Vec<(String, Value)>;

/// A blocking read in progress; the member polls it in place (no task in between).
pub(super) type Reading = Pin<Box<dyn Future<Output = Result<Entries, FredError>> + Send>>;

/// A blocking read of new messages for `consumer`, for `block` at most, on `reader`
/// (the member's connection).
pub(super) fn start(reader: Client, keys: GroupKeys, consumer: String, block: Duration) -> Reading {
    Box::pin(async move { read(&reader, &keys, &consumer, block).await })
}

/// Lets a read that its member abandoned (the member was dropped) finish in a task of
/// its own: what it took is released for the group, then the member's connection closes.
pub(super) fn finish_abandoned(
    reading: Reading,
    reader: Client,
    connection: RedisConnection,
    keys: GroupKeys,
    consumer: String,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        if let Ok(entries) = reading.await {
            let ids = entries.into_iter().map(|(id, _)| id).collect();
            let _ = settle::release(&connection, &keys, &consumer, ids).await;
        }
        let _ = reader.quit().await;
    });
}

async fn read(
    reader: &Client,
    keys: &GroupKeys,
    consumer: &str,
    block: Duration,
) -> Result<Entries, FredError> {
    let block = u64::try_from(block.as_millis()).unwrap_or(u64::MAX).max(1);
    let args: Vec<Value> = vec![
        "GROUP".into(),
        keys.group.as_str().into(),
        consumer.into(),
        "COUNT".into(),
        BATCH.into(),
        "BLOCK".into(),
        block.to_string().into(),
        "STREAMS".into(),
        keys.stream.as_str().into(),
        ">".into(),
    ];
    let reply: Value = reader.custom(command("XREADGROUP"), args).await?;
    Ok(read_entries(reply))
}

/// Takes over messages idle past the claim timeout (released ones look idle at once):
/// `[id, fields, deliveries]` triples.
pub(super) async fn reclaim(
    connection: &RedisConnection,
    keys: &GroupKeys,
    consumer: &str,
) -> Result<Vec<(String, Value, u64)>, FredError> {
    let claim_timeout = connection.config().claim_timeout;
    let millis = u64::try_from(claim_timeout.as_millis()).unwrap_or(u64::MAX);
    let args: Vec<Value> = vec![
        keys.group.as_str().into(),
        consumer.into(),
        millis.to_string().into(),
        BATCH.into(),
    ];
    let script = &connection.scripts().reclaim;
    let reply = script
        .run(connection.client(), keys.stream.as_str(), args)
        .await?;
    let mut out = Vec::new();
    for entry in array(reply) {
        let mut parts = array(entry).into_iter();
        let (Some(id), Some(fields), Some(deliveries)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if let Some(id) = id.as_string() {
            out.push((id, fields, deliveries.as_u64().unwrap_or(2)));
        }
    }
    Ok(out)
}
