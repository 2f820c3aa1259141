//! A durable agent whose run log is the `UpstashServerCache` (through the REST shim) and
//! whose live events go through the in-process pubsub: a run observed from an offset in
//! its middle delivers every later event exactly once, in order, through `finish`; the log
//! it leaves is the one a TCP reader (`RedisServerCache`) sees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use mastra_cache::ServerCache;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{Agent, StreamOptions};
use mastra_durable::agent::EventStream;
use mastra_durable::create_durable_agent;
use mastra_pubsub::{Event, EventEmitterPubSub, EventType};
use mastra_redis::{RedisConfig, RedisConnection, RedisServerCache};
use mastra_upstash::UpstashServerCache;
use support::Shim;

const PATIENCE: Duration = Duration::from_secs(20);

async fn read_to_end(mut events: EventStream) -> Vec<Arc<Event>> {
    tokio::time::timeout(PATIENCE, async move {
        let mut seen = Vec::new();
        while let Some(event) = events.next().await {
            seen.push(event.expect("envelope"));
        }
        seen
    })
    .await
    .expect("the observer must reach the end of the run")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_run_on_the_rest_cache_is_observed_from_an_offset() {
    let shim = Shim::start();
    let config = shim.config();
    let prefix = config.key_prefix.clone();
    let cache = Arc::new(UpstashServerCache::new(config).unwrap());

    let deltas: Vec<String> = (0..20).map(|n| format!("{n} ")).collect();
    let model = ScriptedModel::new([ScriptedResponse::new()
        .text_deltas(deltas.clone())
        .delay(Duration::from_millis(15))]);
    let durable = create_durable_agent(Agent::builder("upstash-writer", model).build())
        .cache(cache.clone())
        .pubsub(Arc::new(EventEmitterPubSub::new()))
        .build();

    let stream = durable.stream("write", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let key = format!("pubsub:agent.stream.{run_id}");

    // Wait until the run is under way, then observe it from the middle.
    let started = tokio::time::Instant::now();
    while cache.list_len(&key).await.unwrap() < 6 {
        assert!(started.elapsed() < PATIENCE, "the run never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let offset = 4;
    let observer = durable.observe(&run_id, offset).await.unwrap();
    let output = stream.output().await.unwrap();
    assert_eq!(output.text, deltas.concat());
    let observed = read_to_end(observer).await;

    let indices: Vec<u64> = observed.iter().map(|event| event.index.unwrap()).collect();
    let total = cache.list_len(&key).await.unwrap();
    assert!(
        total > 20 + offset,
        "every delta is in the log ({total} entries)"
    );
    assert_eq!(
        indices,
        (offset..total).collect::<Vec<_>>(),
        "exactly once, in order"
    );
    assert_eq!(observed.last().unwrap().kind, EventType::Finish);
    assert_eq!(
        observed.last().unwrap().data["output"]["text"],
        deltas.concat()
    );

    // The log over REST is what a TCP reader of the same prefix replays.
    let tcp = RedisServerCache::new(
        RedisConnection::connect(
            RedisConfig::new(support::redis_url())
                .with_pool_size(1)
                .with_key_prefix(prefix),
        )
        .await
        .unwrap(),
    );
    let raw = tcp.list_range(&key, offset, None).await.unwrap();
    assert_eq!(raw.len(), observed.len());
    for (entry, event) in raw.iter().zip(&observed) {
        let parsed: serde_json::Value = serde_json::from_str(entry).unwrap();
        assert_eq!(parsed["index"], event.index.unwrap());
        assert_eq!(parsed["id"], event.id.as_str());
        assert_eq!(parsed["runId"], run_id.as_str());
    }

    // A late observer from another offset gets the same tail.
    let late = read_to_end(durable.observe(&run_id, offset + 3).await.unwrap()).await;
    let late_ids: Vec<_> = late.iter().map(|event| event.id.clone()).collect();
    let tail_ids: Vec<_> = observed[3..].iter().map(|event| event.id.clone()).collect();
    assert_eq!(late_ids, tail_ids);

    cache.clear().await.unwrap();
    assert_eq!(tcp.list_len(&key).await.unwrap(), 0);
}
