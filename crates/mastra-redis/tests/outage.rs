//! Producer behaviour when Redis goes away, against a private `redis-server` this test
//! starts and stops: appends are retried with backoff, then fail with a retryable error
//! in bounded time; a stalled append that is retried is not written twice; the backends
//! recover by themselves once Redis is back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use mastra_cache::{CacheError, ServerCache};
use mastra_redis::{RedisConfig, RedisServerCache, RetryPolicy};
use mastra_test::redis_server::PrivateRedis;
use redis::AsyncCommands;

fn config(url: String) -> RedisConfig {
    RedisConfig::new(url)
        .with_pool_size(1)
        .with_command_timeout(Duration::from_millis(200))
        .with_retry(RetryPolicy::new(
            3,
            Duration::from_millis(20),
            Duration::from_millis(100),
        ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_fail_retryably_in_bounded_time_and_recover_after_an_outage() {
    let mut server = PrivateRedis::start(None);
    let cache = RedisServerCache::new(support::connect(config(server.url())).await);
    assert_eq!(cache.append_indexed("log", "{}").await.unwrap(), 0);

    server.stop();
    let started = Instant::now();
    let outcome = cache.append_indexed("log", "{}").await;
    let took = started.elapsed();
    match outcome {
        Err(error @ CacheError::Unavailable(_)) => assert!(error.is_retryable()),
        other => panic!("expected a retryable unavailable error, got {other:?}"),
    }
    // 3 attempts of at most 200 ms each, plus 20 + 40 ms of backoff.
    assert!(took < Duration::from_secs(2), "took {took:?}");

    let _server = PrivateRedis::start(Some(server.port()));
    let started = Instant::now();
    let index = loop {
        match cache.append_indexed("log", "{}").await {
            Ok(index) => break index,
            Err(error) => {
                assert!(error.is_retryable(), "{error}");
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "never recovered: {error}"
                );
            }
        }
    };
    assert_eq!(index, 0, "a fresh server (no persistence) starts a new log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_append_whose_first_attempt_landed_is_not_written_twice() {
    let server = PrivateRedis::start(None);
    let cache = RedisServerCache::new(
        support::connect(config(server.url()).with_retry(RetryPolicy::new(
            20,
            Duration::from_millis(50),
            Duration::from_millis(200),
        )))
        .await,
    );
    cache.append_indexed("log", r#"{"n":0}"#).await.unwrap();

    // Writes stall for 600 ms: the first attempt times out on our side but runs later.
    let client = redis::Client::open(server.url()).unwrap();
    let mut admin = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(600)
        .arg("WRITE")
        .query_async(&mut admin)
        .await
        .unwrap();
    let started = Instant::now();
    let index = cache
        .append_indexed("log", r#"{"n":1,"id":"unique"}"#)
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "the append outlived its 200 ms command timeout, so it was retried"
    );
    assert_eq!(index, 1);
    let entries: Vec<String> = admin.lrange("mastra:cache:log", 0, -1).await.unwrap();
    assert_eq!(
        entries,
        vec![
            r#"{"index":0,"n":0}"#.to_owned(),
            r#"{"index":1,"n":1,"id":"unique"}"#.to_owned()
        ],
        "exactly once, at the index returned"
    );
}
