//! The batch append script against the real Redis: entries byte-identical to the single
//! append script's, one step for the whole batch, and a retry after a lost reply (the same
//! call again with the retry flag) that recognises the batch instead of writing it twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_redis::protocol::{APPEND_BATCH_SCRIPT, APPEND_SCRIPT};
use redis::AsyncCommands;

const BODIES: [&str; 3] = [r#""n":0,"id":"a"}"#, "}", r#""n":2,"id":"c"}"#];

/// `EVAL` of the batch script over `key`; returns the first index.
async fn batch(
    redis: &mut redis::aio::MultiplexedConnection,
    key: &str,
    ttl: &str,
    retry: bool,
) -> u64 {
    redis::cmd("EVAL")
        .arg(APPEND_BATCH_SCRIPT)
        .arg(2)
        .arg(key)
        .arg(format!("{key}:counter"))
        .arg(ttl)
        .arg(if retry { "1" } else { "0" })
        .arg(&BODIES[..])
        .query_async(redis)
        .await
        .unwrap()
}

fn unique_key() -> String {
    format!("mastra-test:{}:batch", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn a_batch_stores_what_single_appends_store() {
    let mut redis = support::inspector().await;
    let (batched, single) = (unique_key(), unique_key());
    assert_eq!(batch(&mut redis, &batched, "60000", false).await, 0);
    for body in BODIES {
        let _: u64 = redis::cmd("EVAL")
            .arg(APPEND_SCRIPT)
            .arg(2)
            .arg(&single)
            .arg(format!("{single}:counter"))
            .arg(body)
            .arg("60000")
            .arg("0")
            .query_async(&mut redis)
            .await
            .unwrap();
    }
    let one: Vec<String> = redis.lrange(&batched, 0, -1).await.unwrap();
    let other: Vec<String> = redis.lrange(&single, 0, -1).await.unwrap();
    assert_eq!(one, other);
    assert_eq!(one[1], r#"{"index":1}"#);
    let counter: u64 = redis.get(format!("{batched}:counter")).await.unwrap();
    assert_eq!(counter, 3);
    for key in [batched.clone(), format!("{batched}:counter")] {
        let ttl: i64 = redis.pttl(&key).await.unwrap();
        assert!(ttl > 0 && ttl <= 60_000, "{key}: {ttl}");
    }
    let _: () = redis
        .del(&[
            &batched,
            &single,
            &format!("{batched}:counter"),
            &format!("{single}:counter"),
        ])
        .await
        .unwrap();
}

#[tokio::test]
async fn a_retried_batch_whose_first_attempt_landed_is_not_written_twice() {
    let mut redis = support::inspector().await;
    let key = unique_key();
    let _: u64 = redis.rpush(&key, r#"{"index":0,"n":-1}"#).await.unwrap();
    assert_eq!(batch(&mut redis, &key, "0", false).await, 1);
    // The reply was lost: the caller sends the same batch again, as a retry.
    assert_eq!(batch(&mut redis, &key, "0", true).await, 1);
    assert_eq!(redis.llen::<_, u64>(&key).await.unwrap(), 4);
    // TTL 0 leaves the log without expiry.
    assert_eq!(redis.pttl::<_, i64>(&key).await.unwrap(), -1);
    // Without the retry flag, the same batch is a new batch.
    assert_eq!(batch(&mut redis, &key, "0", false).await, 4);
    assert_eq!(redis.llen::<_, u64>(&key).await.unwrap(), 7);
    let _: () = redis.del(&[&key, &format!("{key}:counter")]).await.unwrap();
}
