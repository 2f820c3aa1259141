//! Property: with pipelined writes (two non-waiting senders and awaited publishes mixed on
//! one topic), the log holds every event exactly once, in the order the producer handed
//! them over, and an observer that joins mid-run at a random offset receives exactly the
//! log from that offset: no gap, no duplicate, nothing out of order.

use std::sync::Arc;

use mastra_durable::{CachingOptions, CachingPubSub, AGENT_STREAM_PREFIX};
use mastra_pubsub::{Event, EventType, PublishOptions};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::{chunk, event_of, next_event, unique_topic};
use crate::{BackendFactory, CacheSettings};

/// One random schedule.
#[derive(Debug, Clone)]
struct Schedule {
    events: u64,
    /// Per event (cycled): 0 = sender A, 1 = sender B, 2 = an awaited `publish_event`.
    paths: Vec<u8>,
    /// Yields of the producer after each event (cycled).
    yields: Vec<u8>,
    /// The observer joins once this many events are handed over...
    join_after: u64,
    /// ... at this offset (may be ahead of the log: it then waits for it).
    offset: u64,
}

fn schedules() -> impl Strategy<Value = Schedule> {
    (1u64..120, vec(0u8..3, 1..12), vec(0u8..3, 1..12)).prop_flat_map(|(events, paths, yields)| {
        (0..=events).prop_flat_map(move |join_after| {
            let (paths, yields) = (paths.clone(), yields.clone());
            (0..=(join_after + 3).min(events)).prop_map(move |offset| Schedule {
                events,
                paths: paths.clone(),
                yields: yields.clone(),
                join_after,
                offset,
            })
        })
    })
}

/// Runs `cases` random schedules with pipelining on, against backends from `factory`.
pub fn pipelined_writes_keep_order_for_a_late_observer(factory: &dyn BackendFactory, cases: u32) {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&schedules(), |schedule| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        runtime.block_on(run_schedule(factory, &schedule));
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{} backend: {failure}", factory.name());
    }
}

fn cycled<T: Copy>(values: &[T], at: u64) -> T {
    values[at as usize % values.len()]
}

async fn run_schedule(factory: &dyn BackendFactory, schedule: &Schedule) {
    let backend = factory.open(CacheSettings::default()).await;
    let options = CachingOptions::default().pipelined();
    let caching = CachingPubSub::with_options(backend.pubsub.clone(), backend.cache, options);
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    let a = caching.sender(&topic).expect("a pipelined sender");
    let b = caching.sender(&topic).expect("a pipelined sender");
    let mut observer = None;
    for n in 0..=schedule.events {
        if n == schedule.join_after {
            observer = Some(tokio::spawn(observe(
                caching.clone(),
                topic.clone(),
                schedule.offset,
            )));
        }
        if n == schedule.events {
            break;
        }
        match cycled(&schedule.paths, n) {
            0 => a
                .send(chunk(n), PublishOptions::default())
                .await
                .expect("send"),
            1 => b
                .send(chunk(n), PublishOptions::default())
                .await
                .expect("send"),
            _ => {
                let index = caching
                    .publish_event(&topic, chunk(n), PublishOptions::default())
                    .await
                    .expect("publish");
                assert_eq!(index, Some(n), "an awaited publish waits for its own index");
            }
        }
        for _ in 0..cycled(&schedule.yields, n) {
            tokio::task::yield_now().await;
        }
    }
    a.send(event_of(EventType::Finish), PublishOptions::default())
        .await
        .expect("send finish");
    assert_eq!(a.flush().await.expect("flush"), Some(schedule.events));
    b.flush().await.expect("flush");

    let log = caching.history(&topic, 0).await.expect("history");
    let numbers: Vec<_> = log
        .iter()
        .map(|event| event.data.get("n").cloned())
        .collect();
    let want: Vec<_> = (0..schedule.events)
        .map(|n| Some(serde_json::json!(n)))
        .chain([None])
        .collect();
    assert_eq!(
        numbers, want,
        "the log must hold the events once, in order ({schedule:?})"
    );
    let delivered = match observer {
        Some(observer) => observer.await.expect("observer"),
        None => panic!("the observer never joined"),
    };
    let got: Vec<_> = delivered.iter().map(|e| (e.index, e.id.clone())).collect();
    let want: Vec<_> = log
        .iter()
        .skip(schedule.offset as usize)
        .map(|e| (e.index, e.id.clone()))
        .collect();
    assert_eq!(
        got, want,
        "the observer must get the log from its offset ({schedule:?})"
    );
    caching.history_len(&topic).await.expect("len");
    mastra_pubsub::PubSub::clear_topic(&caching, &topic)
        .await
        .expect("clear");
}

/// Every event from `offset` to the terminal one.
async fn observe(caching: CachingPubSub, topic: String, offset: u64) -> Vec<Arc<Event>> {
    let mut observer = caching
        .subscribe_from_offset(&topic, offset)
        .await
        .expect("subscribe");
    let mut delivered = Vec::new();
    while let Some(event) = next_event(&mut observer).await {
        let terminal = event.is_terminal();
        delivered.push(event);
        if terminal {
            break;
        }
    }
    delivered
}
