//! Property: an observer that disconnects anywhere and reconnects from `last index + 1`
//! receives exactly the log, whatever the schedule (checklist items 5 and 9 under random
//! interleavings, including events published during the observer's set-up).

use std::sync::Arc;

use mastra_durable::{CachingOptions, CachingPubSub, Pipelining, AGENT_STREAM_PREFIX};
use mastra_pubsub::{Event, EventType, PublishOptions};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tokio::sync::Mutex;

use crate::hooks::{HookedCache, HookedPubSub, Injection, ReadHook};
use crate::support::{chunk, event_of, next_event, unique_topic};
use crate::{BackendFactory, CacheSettings};

/// One random schedule.
#[derive(Debug, Clone)]
struct Schedule {
    events: u64,
    /// Events read before each disconnect (cycled).
    reads_per_session: Vec<usize>,
    /// Per session: 0 = no injection, 1 = after the live subscribe, 2 = before the history
    /// read, 3 = after it (cycled).
    injections: Vec<u8>,
    /// Yields of the producer after each event (cycled), to vary the interleaving.
    producer_yields: Vec<u8>,
}

fn schedules() -> impl Strategy<Value = Schedule> {
    (
        1u64..60,
        vec(1usize..8, 1..8),
        vec(0u8..4, 1..8),
        vec(0u8..3, 1..16),
    )
        .prop_map(
            |(events, reads_per_session, injections, producer_yields)| Schedule {
                events,
                reads_per_session,
                injections,
                producer_yields,
            },
        )
}

/// Runs `cases` random schedules against backends from `factory`; panics with the
/// smallest failing schedule.
pub fn reconnect_anywhere_loses_nothing(factory: &dyn BackendFactory, cases: u32) {
    reconnect_anywhere(factory, cases, Pipelining::Auto);
}

/// The same with every publish through the topic's pipelined writer (group commit),
/// whatever the backend prefers.
pub fn reconnect_anywhere_loses_nothing_pipelined(factory: &dyn BackendFactory, cases: u32) {
    reconnect_anywhere(factory, cases, Pipelining::On);
}

fn reconnect_anywhere(factory: &dyn BackendFactory, cases: u32, pipelining: Pipelining) {
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
        runtime.block_on(run_schedule(factory, &schedule, pipelining));
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{} backend: {failure}", factory.name());
    }
}

fn cycled<T: Copy>(values: &[T], at: usize) -> T {
    values[at % values.len()]
}

async fn run_schedule(factory: &dyn BackendFactory, schedule: &Schedule, pipelining: Pipelining) {
    let backend = factory.open(CacheSettings::default()).await;
    let pubsub = Arc::new(HookedPubSub::new(backend.pubsub.clone()));
    let cache = Arc::new(HookedCache::new(backend.cache.clone()));
    let options = CachingOptions::default().with_pipelining(pipelining);
    let caching = CachingPubSub::with_options(pubsub.clone(), cache.clone(), options);
    let topic = unique_topic(AGENT_STREAM_PREFIX);
    // Held while publishing; `true` once `finish` is out, so that nothing follows it.
    let finished = Arc::new(Mutex::new(false));

    let producer = tokio::spawn({
        let (caching, topic, finished) = (caching.clone(), topic.clone(), finished.clone());
        let (events, yields) = (schedule.events, schedule.producer_yields.clone());
        async move {
            for n in 0..events {
                let guard = finished.lock().await;
                caching
                    .publish_event(&topic, chunk(n), PublishOptions::default())
                    .await
                    .expect("publish");
                drop(guard);
                for _ in 0..cycled(&yields, n as usize) {
                    tokio::task::yield_now().await;
                }
            }
            let mut done = finished.lock().await;
            let finish = event_of(EventType::Finish);
            caching
                .publish_event(&topic, finish, PublishOptions::default())
                .await
                .expect("publish");
            *done = true;
        }
    });

    let mut delivered: Vec<Arc<Event>> = Vec::new();
    for session in 0.. {
        assert!(session < 10_000, "the observer never reached the end");
        let injection = gated_injection(&caching, &topic, &finished, session);
        match cycled(&schedule.injections, session) {
            1 => pubsub.arm(injection),
            2 => cache.arm(ReadHook::BeforeRead, injection),
            3 => cache.arm(ReadHook::AfterRead, injection),
            _ => {}
        }
        let offset = delivered
            .last()
            .and_then(|event| event.index)
            .map_or(0, |last| last + 1);
        let mut observer = caching
            .subscribe_from_offset(&topic, offset)
            .await
            .expect("subscribe");
        let mut ended = false;
        for _ in 0..cycled(&schedule.reads_per_session, session) {
            match next_event(&mut observer).await {
                Some(event) => delivered.push(event),
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if ended || delivered.last().is_some_and(|event| event.is_terminal()) {
            break;
        }
    }
    producer.await.expect("producer");

    let log = caching.history(&topic, 0).await.expect("history");
    let got: Vec<_> = delivered
        .iter()
        .map(|event| (event.index, &event.id, &event.kind, &event.data))
        .collect();
    let want: Vec<_> = log
        .iter()
        .map(|event| (event.index, &event.id, &event.kind, &event.data))
        .collect();
    assert_eq!(
        got, want,
        "the concatenated sessions must equal the log ({schedule:?})"
    );
    assert_eq!(
        log.last().map(|event| &event.kind),
        Some(&EventType::Finish)
    );
}

/// Two extra chunks published during set-up, unless the run already finished.
fn gated_injection(
    caching: &CachingPubSub,
    topic: &str,
    finished: &Arc<Mutex<bool>>,
    session: usize,
) -> Injection {
    let (caching, topic, finished) = (caching.clone(), topic.to_owned(), finished.clone());
    Injection::custom(move || {
        Box::pin(async move {
            let done = finished.lock().await;
            if *done {
                return;
            }
            for n in 0..2 {
                let event = chunk(1_000_000 + (session as u64) * 10 + n);
                caching
                    .publish_event(&topic, event, PublishOptions::default())
                    .await
                    .expect("publish");
            }
        })
    })
}
