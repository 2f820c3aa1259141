//! Killing the subscriber connection mid-run (`CLIENT KILL ID`): fred reconnects, the
//! channels are subscribed again, every reader gets `Delivery::Reconnected`, and the
//! caching layer catches up from the log, so observers still receive every event once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use mastra_durable::CachingPubSub;
use mastra_pubsub::{Delivery, Event, EventType, PubSub, PublishOptions};
use mastra_redis::{RedisPubSub, RedisServerCache};
use serde_json::json;

/// Kills the connection named `name` with the independent client; whether one was found.
async fn kill_connection(name: &str) -> bool {
    let mut redis = support::inspector().await;
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut redis)
        .await
        .unwrap();
    let Some(line) = list
        .lines()
        .find(|line| line.split(' ').any(|field| field == format!("name={name}")))
    else {
        return false;
    };
    let id = line
        .split(' ')
        .find_map(|field| field.strip_prefix("id="))
        .expect("an id field");
    let killed: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query_async(&mut redis)
        .await
        .unwrap();
    killed == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_receive_every_event_once_across_subscriber_kills() {
    let connection = support::connect(support::unique_config()).await;
    let pubsub = Arc::new(RedisPubSub::new(connection.clone()).await.unwrap());
    let cache = Arc::new(RedisServerCache::new(connection));
    let caching = CachingPubSub::new(pubsub.clone(), cache);
    let run = uuid::Uuid::new_v4().to_string();
    let topic = format!("agent.stream.{run}");
    let mut observer = caching.subscribe_with_replay(&topic).await.unwrap();
    let mut plain = pubsub.subscribe(&topic).await.unwrap();

    let total = 300u64;
    let producer = tokio::spawn({
        let (caching, topic, run, pubsub) =
            (caching.clone(), topic.clone(), run.clone(), pubsub.clone());
        async move {
            let mut kills = 0;
            for n in 0..total {
                if n == 100 || n == 200 {
                    let name = pubsub.subscriber_name();
                    assert!(
                        kill_connection(&name).await,
                        "subscriber `{name}` not found"
                    );
                    kills += 1;
                }
                let event = Event::new(EventType::Chunk, run.as_str(), json!({ "n": n }));
                caching
                    .publish_event(&topic, event, PublishOptions::default())
                    .await
                    .expect("publish");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let finish = Event::new(EventType::Finish, run.as_str(), json!({}));
            caching
                .publish_event(&topic, finish, PublishOptions::default())
                .await
                .expect("publish");
            kills
        }
    });

    let mut indices = Vec::new();
    while let Some(item) = tokio::time::timeout(Duration::from_secs(20), observer.next())
        .await
        .expect("the observer must not stall")
    {
        indices.push(item.expect("observer error").index.expect("indexed"));
    }
    assert_eq!(producer.await.unwrap(), 2);
    assert_eq!(
        indices,
        (0..=total).collect::<Vec<_>>(),
        "every event exactly once"
    );
    assert!(
        observer.catch_up_count() >= 1,
        "the reconnects were caught up from the log"
    );

    // The plain subscription was told about the reconnects explicitly.
    let mut reconnects = 0;
    while let Ok(Some(delivery)) =
        tokio::time::timeout(Duration::from_millis(200), plain.next()).await
    {
        if delivery == Delivery::Reconnected {
            reconnects += 1;
        }
    }
    assert!(reconnects >= 2, "got {reconnects} reconnect notices");
    caching.clear_topic(&topic).await.unwrap();
}
