//! Property, at the agent level (checklists 9 and 14): an observer of a live durable run that
//! disconnects after any number of events and reconnects with `observe(run_id, last + 1)`
//! receives exactly the run's log: every index once, in order, ending with `finish`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use mastra_core::{demo::DemoModel, Agent, StreamOptions};
use mastra_durable::{create_durable_agent, DurableAgent};
use mastra_pubsub::{Event, EventType};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::*;

/// One random observer schedule.
#[derive(Debug, Clone)]
struct Schedule {
    /// The run counts to this.
    count: u64,
    /// Events read before each disconnect (cycled).
    reads: Vec<usize>,
    /// After each disconnect: 0 = reconnect at once, 1 = yield first, 2+ = sleep that many
    /// milliseconds (cycled), so reconnects land before, during and after the run.
    pauses: Vec<u8>,
    /// Hang up the run's own stream at once, or read it to the end alongside.
    keep_stream: bool,
}

fn schedules() -> impl Strategy<Value = Schedule> {
    (
        1u64..40,
        vec(1usize..9, 1..8),
        vec(0u8..5, 1..8),
        any::<bool>(),
    )
        .prop_map(|(count, reads, pauses, keep_stream)| Schedule {
            count,
            reads,
            pauses,
            keep_stream,
        })
}

fn cycled<T: Copy>(values: &[T], at: usize) -> T {
    values[at % values.len()]
}

/// Follows the run by reconnecting sessions; returns everything they received.
async fn follow(
    durable: &DurableAgent,
    run_id: &str,
    schedule: &Schedule,
) -> Result<Vec<Arc<Event>>, TestCaseError> {
    let mut received: Vec<Arc<Event>> = Vec::new();
    for session in 0.. {
        prop_assert!(session < 1_000, "the observer never reached the end");
        let offset = received.last().map_or(0, |e| e.index.unwrap() + 1);
        let mut events = durable.observe(run_id, offset).await.unwrap();
        for _ in 0..cycled(&schedule.reads, session) {
            let next = within("an envelope", events.next()).await;
            let event = match next {
                Some(event) => event.unwrap(),
                None => {
                    let message = format!("the observer ended before finish (from {offset})");
                    return Err(TestCaseError::fail(message));
                }
            };
            let finished = event.kind == EventType::Finish;
            received.push(event);
            if finished {
                return Ok(received);
            }
        }
        drop(events);
        match cycled(&schedule.pauses, session) {
            0 => {}
            1 => tokio::task::yield_now().await,
            ms => tokio::time::sleep(Duration::from_millis(u64::from(ms))).await,
        }
    }
    unreachable!()
}

async fn check(durable: &DurableAgent, schedule: &Schedule) -> Result<(), TestCaseError> {
    let prompt = format!("count to {}", schedule.count);
    let stream = durable.stream(prompt, StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let reader = schedule
        .keep_stream
        .then(|| tokio::spawn(read_chunks(stream)));

    let received = follow(durable, &run_id, schedule).await?;
    let log = log_of(durable, &run_id).await;
    let key = |e: &Arc<Event>| (e.index, e.id.clone(), e.kind.clone(), e.data.clone());
    let got: Vec<_> = received.iter().map(key).collect();
    let expected: Vec<_> = log.iter().map(key).collect();
    prop_assert_eq!(got, expected);
    let last_index = log.len() as u64 - 1;
    prop_assert_eq!(indices(&received), (0..=last_index).collect::<Vec<_>>());
    prop_assert_eq!(
        &received.last().unwrap().data["output"]["text"],
        &serde_json::json!(count_text(schedule.count))
    );
    if let Some(reader) = reader {
        let chunks = reader.await.unwrap();
        prop_assert_eq!(text_of(&chunks), count_text(schedule.count));
    }
    Ok(())
}

#[test]
fn an_observer_reconnecting_anywhere_receives_exactly_the_log() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let model = DemoModel::new().with_delay(Duration::from_micros(200));
    let durable = create_durable_agent(Agent::builder("counter", model).build())
        .cleanup_timeout(Duration::ZERO)
        .build();
    let config = Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&schedules(), |schedule| {
        runtime.block_on(check(&durable, &schedule))
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
