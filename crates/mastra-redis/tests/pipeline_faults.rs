//! Pipelined run-log writes (write-behind with group commit, the path durable agents take
//! on Redis) when Redis misbehaves mid-stream, against a private `redis-server`: writes that
//! stall past the command timeout, command connections killed, a persistent server
//! restarted mid-stream, and Redis gone for good.
//! Every event is logged once and in order, and observers get every index once; a failure
//! past the retry bound reaches the producer and stays.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mastra_durable::{CachingPubSub, DurableError};
use mastra_pubsub::{Event, EventType, PublishOptions};
use mastra_redis::{RedisConfig, RedisPubSub, RedisServerCache, RetryPolicy};
use mastra_test::redis_server::PrivateRedis;
use serde_json::json;

fn config(url: String, attempts: u32) -> RedisConfig {
    RedisConfig::new(url)
        .with_pool_size(1)
        .with_command_timeout(Duration::from_millis(200))
        .with_retry(RetryPolicy::new(
            attempts,
            Duration::from_millis(50),
            Duration::from_millis(200),
        ))
}

async fn caching(config: RedisConfig) -> CachingPubSub {
    let connection = support::connect(config).await;
    let pubsub = RedisPubSub::new(connection.clone()).await.unwrap();
    let caching = CachingPubSub::new(
        Arc::new(pubsub),
        Arc::new(RedisServerCache::new(connection)),
    );
    assert!(
        caching.is_pipelined(),
        "Redis pipelines its appends by default"
    );
    caching
}

async fn admin(server: &PrivateRedis) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(server.url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

fn chunk(run: &str, n: u64) -> Event {
    Event::new(EventType::Chunk, run, json!({ "n": n }))
}

/// Streams `total` chunks and a `finish` through one sender, running `fault` when event
/// `at` is reached, while an observer reads from 0; checks the log and the observer.
async fn stream_through<F, Fut>(caching: CachingPubSub, total: u64, at: &[u64], fault: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let run = uuid::Uuid::new_v4().to_string();
    let topic = format!("agent.stream.{run}");
    let mut observer = caching.subscribe_with_replay(&topic).await.unwrap();
    let reader = tokio::spawn(async move {
        let mut indices = Vec::new();
        while let Some(item) = tokio::time::timeout(Duration::from_secs(30), observer.next())
            .await
            .expect("the observer must not stall")
        {
            indices.push(item.expect("observer error").index.expect("indexed"));
        }
        indices
    });
    let sender = caching.sender(&topic).unwrap();
    for n in 0..total {
        if at.contains(&n) {
            fault().await;
        }
        sender
            .send(chunk(&run, n), PublishOptions::default())
            .await
            .unwrap();
        if n % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let finish = Event::new(EventType::Finish, run.as_str(), json!({}));
    sender
        .send(finish, PublishOptions::default())
        .await
        .unwrap();
    assert_eq!(sender.flush().await.unwrap(), Some(total));
    assert_eq!(
        reader.await.unwrap(),
        (0..=total).collect::<Vec<_>>(),
        "every index once"
    );
    let log = caching.history(&topic, 0).await.unwrap();
    let numbers: Vec<u64> = log.iter().filter_map(|e| e.data["n"].as_u64()).collect();
    assert_eq!(
        numbers,
        (0..total).collect::<Vec<_>>(),
        "logged once, in order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_writes_ride_out_a_write_stall_exactly_once() {
    let server = PrivateRedis::start(None);
    let caching = caching(config(server.url(), 20)).await;
    let admin = admin(&server).await;
    let started = Instant::now();
    stream_through(caching, 300, &[100], || {
        let mut admin = admin.clone();
        async move {
            // Writes stall for 600 ms: batches time out on our side, run later, and are
            // retried.
            let _: () = redis::cmd("CLIENT")
                .arg("PAUSE")
                .arg(600)
                .arg("WRITE")
                .query_async(&mut admin)
                .await
                .unwrap();
        }
    })
    .await;
    assert!(started.elapsed() >= Duration::from_millis(600));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_writes_survive_killed_command_connections() {
    let server = PrivateRedis::start(None);
    let caching = caching(config(server.url(), 20)).await;
    let admin = admin(&server).await;
    stream_through(caching, 300, &[100, 200], || {
        let mut admin = admin.clone();
        async move {
            // Every command connection but this one (the subscriber is of type pubsub);
            // after the first kill, fred may still be reconnecting: wait for it.
            let started = Instant::now();
            loop {
                let killed: u64 = redis::cmd("CLIENT")
                    .arg("KILL")
                    .arg("TYPE")
                    .arg("normal")
                    .arg("SKIPME")
                    .arg("yes")
                    .query_async(&mut admin)
                    .await
                    .unwrap();
                if killed >= 1 {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "nothing to kill"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_gone_for_good_is_a_sticky_error_for_the_producer() {
    let mut server = PrivateRedis::start(None);
    let caching = caching(config(server.url(), 3)).await;
    let run = uuid::Uuid::new_v4().to_string();
    let topic = format!("agent.stream.{run}");
    let sender = caching.sender(&topic).unwrap();
    for n in 0..10 {
        sender
            .send(chunk(&run, n), PublishOptions::default())
            .await
            .unwrap();
    }
    assert_eq!(sender.flush().await.unwrap(), Some(9));

    server.stop();
    let started = Instant::now();
    for n in 10..20 {
        // Queued: the failure comes back from the flush.
        sender
            .send(chunk(&run, n), PublishOptions::default())
            .await
            .unwrap();
    }
    let failed = sender.flush().await;
    let took = started.elapsed();
    match &failed {
        Err(DurableError::WriteFailed { source, .. }) => assert!(source.is_retryable(), "{source}"),
        other => panic!("expected WriteFailed, got {other:?}"),
    }
    // 5 batch attempts, each of 3 commands of at most 200 ms, plus backoff.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let refused = sender
        .send(chunk(&run, 20), PublishOptions::default())
        .await;
    assert!(
        matches!(refused, Err(DurableError::WriteFailed { .. })),
        "{refused:?}"
    );
    assert!(sender.flush().await.is_err(), "the error is sticky");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_writes_ride_out_a_persistent_server_restart_exactly_once() {
    let dir = std::env::temp_dir().join(format!("mastra-aof-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = PrivateRedis::start_persistent(None, &dir);
    let (url, port) = (server.url(), server.port());
    let server = Arc::new(std::sync::Mutex::new(Some(server)));
    let caching = caching(config(url, 20)).await;
    let restarts = Arc::new(std::sync::Mutex::new(Vec::new()));
    stream_through(caching, 300, &[100], || {
        let (server, dir, restarts) = (server.clone(), dir.clone(), restarts.clone());
        async move {
            // Down for 300 ms while the producer keeps sending, then back with its data.
            let restart = tokio::task::spawn_blocking(move || {
                drop(server.lock().unwrap().take());
                std::thread::sleep(Duration::from_millis(300));
                *server.lock().unwrap() = Some(PrivateRedis::start_persistent(Some(port), &dir));
            });
            restarts.lock().unwrap().push(restart);
        }
    })
    .await;
    let restarts = std::mem::take(&mut *restarts.lock().unwrap());
    for restart in restarts {
        restart.await.unwrap();
    }
    drop(server.lock().unwrap().take());
    let _ = std::fs::remove_dir_all(&dir);
}
