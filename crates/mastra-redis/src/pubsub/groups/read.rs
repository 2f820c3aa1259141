//! A member's reads. New messages: `XREADGROUP ... BLOCK` on the member's own connection,
//! so Redis hands each new entry to exactly one idle member, the moment it is added (no
//! wake-up round, no read by every idle member). The read runs in a task of its own, so
//! a member that stops waiting for it (a wake-up to reclaim, or the member dropped) never
//! loses what it took: a dropped member's task releases it for the group. Reclaim of
//! released or abandoned messages (`XAUTOCLAIM`) runs on the shared pool.

use std::time::Duration;

use fred::clients::Client;
use fred::error::Error as FredError;
use fred::interfaces::ClientLike;
use fred::types::Value;
use tokio::sync::oneshot;

use super::{command, settle, GroupKeys, BATCH};
use crate::pubsub::replies::{array, read_entries};
use crate::RedisConnection;

/// Stream entries as read: id and fields.
pub(super) type Entries = Vec<(String, Value)>;

/// What one blocking read got (nothing when it timed out).
pub(super) type Outcome = Result<Entries, FredError>;

/// Starts one blocking read of new messages for `consumer`, for `block` at most, on
/// `reader` (the member's connection); its outcome arrives on the returned receiver. If
/// the receiver is gone by then (the member was dropped), what the read took is released
/// and the member's connection closed.
pub(super) fn start(
    reader: Client,
    connection: RedisConnection,
    keys: GroupKeys,
    consumer: String,
    block: Duration,
) -> oneshot::Receiver<Outcome> {
    let (done, outcome) = oneshot::channel();
    tokio::spawn(async move {
        let result = read(&reader, &keys, &consumer, block).await;
        if let Err(orphaned) = done.send(result) {
            if let Ok(entries) = orphaned {
                let ids = entries.into_iter().map(|(id, _)| id).collect();
                let _ = settle::release(&connection, &keys, &consumer, ids).await;
            }
            let _ = reader.quit().await;
        }
    });
    outcome
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
