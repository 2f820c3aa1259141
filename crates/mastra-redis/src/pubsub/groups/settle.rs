//! Settling one delivered group message: `XACK`, or a release for another delivery.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use fred::interfaces::ClientLike;
use fred::types::Value;
use mastra_pubsub::{Acknowledger, PubSubError};

use super::{command, GroupKeys};
use crate::error::pubsub_error;
use crate::RedisConnection;

/// Makes pending messages reclaimable at once and wakes the group's members.
pub(super) async fn release(
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

/// Releases `ids` from a task of its own (for `Drop`s, which cannot wait).
pub(super) fn release_later(
    connection: &RedisConnection,
    keys: &GroupKeys,
    consumer: &str,
    ids: Vec<String>,
) {
    if ids.is_empty() {
        return;
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let (connection, keys, consumer) = (connection.clone(), keys.clone(), consumer.to_owned());
        runtime.spawn(async move {
            let _ = release(&connection, &keys, &consumer, ids).await;
        });
    }
}

/// Settles one delivered message.
#[derive(Debug)]
pub(super) struct Settle {
    pub(super) connection: RedisConnection,
    pub(super) keys: GroupKeys,
    pub(super) consumer: String,
    pub(super) id: String,
    pub(super) settled: AtomicBool,
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
        if !self.settled.load(Ordering::SeqCst) {
            let id = std::mem::take(&mut self.id);
            release_later(&self.connection, &self.keys, &self.consumer, vec![id]);
        }
    }
}
