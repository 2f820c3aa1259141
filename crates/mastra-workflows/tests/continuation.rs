//! Continuation: a worker that took a run's step goes on with the run's next steps itself
//! while its turn lasts, saving the run after every step with the lease kept (`held`);
//! then, or when the workers stop, it queues the next step for any worker. A crash in a
//! continued turn is covered by `crash_recovery.rs` (the default turn spans those runs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::tool::tool;
use mastra_core::{Agent, FinishReason, StreamOptions, ToolContext, ToolError, Usage};
use mastra_pubsub::{Delivery, EventType, PubSub, Subscription};
use mastra_workflows::task::{Task, WORKFLOWS_TOPIC};
use mastra_workflows::WorkflowStore;
use serde_json::{json, Value};
use std::time::Duration;
use support::*;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);
const LONG_TURN: Duration = Duration::from_secs(60);

/// The step numbers of the queue messages of `run_id` seen so far.
async fn queued_steps(queue: &mut Subscription, run_id: &str) -> Vec<u64> {
    let mut steps = Vec::new();
    while let Ok(Some(delivery)) = timeout(Duration::from_millis(100), queue.next()).await {
        if let Delivery::Event(event) = delivery {
            if let Some(task) = Task::from_event(&event).filter(|t| t.run_id == run_id) {
                steps.push(task.step);
            }
        }
    }
    steps
}

/// A two-tool-round run on one worker with a turn of `turn`: the queued steps and the
/// saves it made.
async fn one_run(turn: Duration) -> (Vec<u64>, Vec<Save>) {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let store = FreezingStore::new(deployment.store.clone(), u64::MAX);
    let engine = deployment
        .engine("a")
        .store(store.clone())
        .continuation(turn)
        .build();
    let durable = deployment.durable(agent(&model, &lookups), &engine);
    let mut queue = deployment.pubsub.subscribe(WORKFLOWS_TOPIC).await.unwrap();
    let _workers = engine.start_workers(1).await.unwrap();
    let stream = durable.stream("question", StreamOptions::new()).await;
    let stream = stream.unwrap();
    let run_id = stream.run_id().to_owned();
    let output = timeout(WAIT, stream.output()).await.unwrap().unwrap();
    assert_eq!(output.text, FULL_TEXT);
    assert_eq!(output.usage, Usage::new(30, 15));
    let events = envelopes(&durable, &run_id).await;
    assert_eq!(count(&events, EventType::Finish), 1);
    assert_eq!(count(&events, EventType::OwnershipClaimed), 0);
    assert!(no_active_runs(&engine).await);
    (queued_steps(&mut queue, &run_id).await, store.saves())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_takes_a_runs_quick_steps_in_one_turn_saving_every_step() {
    let (queued, saves) = one_run(LONG_TURN).await;
    assert_eq!(queued, [0], "only the run's start went through the queue");
    let held: Vec<(u64, bool)> = saves.iter().map(|s| (s.step, s.held)).collect();
    let expected: Vec<(u64, bool)> = (1..=5).map(|step| (step, true)).collect();
    assert_eq!(
        held, expected,
        "every completed step is saved, the lease kept"
    );
    assert!(saves.iter().all(|s| s.accepted && s.generation == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_turn_queues_every_step() {
    let (queued, saves) = one_run(Duration::ZERO).await;
    assert_eq!(queued, [0, 1, 2, 3, 4, 5]);
    let held: Vec<(u64, bool)> = saves.iter().map(|s| (s.step, s.held)).collect();
    let expected: Vec<(u64, bool)> = (1..=5).map(|step| (step, false)).collect();
    assert_eq!(held, expected, "each step saved as handed over");
    // Each step is claimed anew, from the record its predecessor left.
    let generations: Vec<u64> = saves.iter().map(|s| s.generation).collect();
    assert_eq!(generations, [1, 2, 3, 4, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_workers_hand_a_continued_run_on_after_the_step_in_progress() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let store = FreezingStore::new(deployment.store.clone(), u64::MAX);
    let engine_a = deployment
        .engine("a")
        .store(store.clone())
        .continuation(LONG_TURN)
        .build();
    let durable = deployment.durable(agent(&model, &lookups), &engine_a);
    let engine_b = deployment.engine("b").continuation(LONG_TURN).build();
    deployment.durable(agent(&model, &lookups), &engine_b);
    lookups.gate.stop_at(0);
    let workers_a = engine_a.start_workers(1).await.unwrap();
    let stream = durable.stream("question", StreamOptions::new()).await;
    let stream = stream.unwrap();
    let run_id = stream.run_id().to_owned();
    timeout(WAIT, lookups.gate.reached.notified())
        .await
        .expect("the first tool call starts");
    // Another instance's worker joins; it has nothing to take while `a` has the run.
    let _workers_b = engine_b.start_workers(1).await.unwrap();
    // Stopping waits for the tool step in progress, which the gate holds until released.
    let stopping = tokio::spawn(workers_a.stop());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!stopping.is_finished(), "the step in progress is finished");
    lookups.gate.release.notify_one();
    timeout(WAIT, stopping)
        .await
        .expect("the workers stop after the step in progress")
        .unwrap();
    let output = timeout(WAIT, stream.output()).await.unwrap().unwrap();
    assert_eq!(output.text, FULL_TEXT);
    assert_eq!(model.gate.calls(), 3, "no step ran twice");
    let saves: Vec<(u64, bool)> = store.saves().iter().map(|s| (s.step, s.held)).collect();
    // The model step was continued; the tool step, finished while stopping, handed over.
    assert_eq!(saves, [(1, true), (2, false)]);
    let events = envelopes(&durable, &run_id).await;
    assert_eq!(count(&events, EventType::Finish), 1);
    // A clean hand-over voids nothing.
    assert_eq!(count(&events, EventType::OwnershipClaimed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_stored_during_a_turn_ends_the_run_at_its_next_step() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let engine = deployment.engine("a").continuation(LONG_TURN).build();
    let durable = deployment.durable(agent(&model, &lookups), &engine);
    lookups.gate.stop_at(0);
    let _workers = engine.start_workers(1).await.unwrap();
    let stream = durable.stream("question", StreamOptions::new()).await;
    let stream = stream.unwrap();
    let run_id = stream.run_id().to_owned();
    timeout(WAIT, lookups.gate.reached.notified())
        .await
        .unwrap();
    // A cancel request whose announcement on the control topic never came (stored only).
    assert!(deployment.store.request_cancel(&run_id).await.unwrap());
    lookups.gate.release.notify_one();
    let output = timeout(WAIT, stream.output()).await.unwrap().unwrap();
    assert_eq!(output.finish_reason, FinishReason::Abort);
    assert_eq!(
        model.gate.calls(),
        1,
        "the step after the save called no model"
    );
    let events = envelopes(&durable, &run_id).await;
    assert_eq!(events.iter().filter(|e| e.is_terminal()).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stopped_in_a_continued_save_starts_no_further_step() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let leases = StoppableLeases::new(deployment.leases.clone());
    // a's save of step 1 goes through, then a "stops" before it hears back.
    let store = FreezingStore::new(deployment.store.clone(), 1);
    let engine_a = deployment
        .engine("a")
        .store(store.clone())
        .leases(leases.clone())
        .continuation(LONG_TURN)
        .build();
    let durable = deployment.durable(agent(&model, &lookups), &engine_a);
    let engine_b = deployment.engine("b").continuation(LONG_TURN).build();
    deployment.durable(agent(&model, &lookups), &engine_b);
    let _workers_a = engine_a.start_workers(1).await.unwrap();
    let stream = durable.stream("question", StreamOptions::new()).await;
    let stream = stream.unwrap();
    let run_id = stream.run_id().to_owned();
    timeout(WAIT, store.frozen.notified()).await.unwrap();
    // a's renewals hang too, its lease runs out, and b takes the run over.
    leases.stop("a/0");
    tokio::time::sleep(LEASE_TTL + Duration::from_millis(100)).await;
    let _workers_b = engine_b.start_workers(1).await.unwrap();
    assert!(engine_b.recover(&run_id).await.unwrap());
    let output = timeout(WAIT, stream.output()).await.unwrap().unwrap();
    assert_eq!(output.text, FULL_TEXT);
    let log_len = durable.context().channel.log_len(&run_id).await.unwrap();
    // a continues: its save was accepted, but its claim is stale, so it confirms the lease
    // before it takes the tool step, finds it lost and stops.
    leases.resume();
    store.thaw.notify_one();
    tokio::time::sleep(LEASE_TTL).await;
    assert_eq!(lookups.keys().len(), 2, "no tool call ran twice");
    assert_eq!(model.gate.calls(), 3, "no model call ran twice");
    let now = durable.context().channel.log_len(&run_id).await.unwrap();
    assert_eq!(now, log_len, "a wrote nothing more");
    let saves: Vec<(u64, u64, bool)> = store
        .saves()
        .iter()
        .map(|s| (s.step, s.generation, s.accepted))
        .collect();
    assert_eq!(saves, [(1, 1, true)], "a saved nothing more");
    let events = envelopes(&durable, &run_id).await;
    assert_eq!(count(&events, EventType::Finish), 1);
    assert_eq!(count(&events, EventType::OwnershipClaimed), 1);
    assert_eq!(client_text(&events), FULL_TEXT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_sharing_one_worker_take_turns() {
    let wait = || {
        tool("wait", "waits a little", |_: Value, _: ToolContext| async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok::<_, ToolError>(Value::Null)
        })
    };
    // The long run takes 30 tool calls of 10 ms or more: many turns of 10 ms, and far
    // longer than the short run, even on a loaded machine.
    let rounds = (0..30).map(|_| ScriptedResponse::new().tool_call("wait", json!({})));
    let long_model = ScriptedModel::new(rounds.chain([ScriptedResponse::text("30 rounds")]));
    let long_agent = Agent::builder("long", long_model)
        .tool(wait())
        .max_steps(100)
        .build();
    let short_model = ScriptedModel::new([ScriptedResponse::text("0 rounds")]);
    let short_agent = Agent::builder("short", short_model).tool(wait()).build();
    let deployment = Deployment::new();
    let engine = deployment
        .engine("a")
        .continuation(Duration::from_millis(10))
        .build();
    let long = deployment.durable(long_agent, &engine);
    let short = deployment.durable(short_agent, &engine);
    let _workers = engine.start_workers(1).await.unwrap();
    // The short run is queued while the long one's first turn goes on.
    let long = long.stream("go", StreamOptions::new()).await.unwrap();
    let short = short.stream("go", StreamOptions::new()).await.unwrap();
    let long = tokio::spawn(long.output());
    let short = timeout(WAIT, short.output()).await.unwrap().unwrap();
    assert_eq!(short.text, "0 rounds", "{short:#?}");
    assert!(
        !long.is_finished(),
        "the short run, queued behind the long one, waited for it to end"
    );
    let long = timeout(WAIT, long).await.unwrap().unwrap().unwrap();
    assert_eq!(long.text, "30 rounds");
    assert_eq!(long.steps.len(), 31);
}
