//! Fencing (checklist 25): one owner per run; every claim raises the generation; an
//! executor that was stopped past its lease and then continues writes nothing, publishes no
//! terminal event and makes no further model calls; observers drop older generations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_core::{StreamOptions, Usage};
use mastra_pubsub::{Event, EventType};
use serde_json::json;
use std::time::Duration;
use support::*;
use tokio::time::{sleep, timeout};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_superseded_executor_writes_nothing_and_calls_no_model() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let leases = StoppableLeases::new(deployment.leases.clone());
    let store = deployment.store.clone();
    let (engine_a, durable) =
        deployment.instance_with("a", agent(&model, &lookups), store, leases.clone());
    let (engine_b, _) = deployment.instance("b", agent(&model, &lookups));
    model.gate.stop_at(1); // mid-stream in the second model call
    let _workers_a = engine_a.start_workers(1).await.unwrap();
    let on_finish = Counter::default();
    let stream = durable
        .stream("question", on_finish.on_finish())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    timeout(WAIT, model.gate.reached.notified()).await.unwrap();

    // "SIGSTOP": a's renewals hang, its lease runs out, and b takes the run over.
    leases.stop("a/0");
    sleep(LEASE_TTL + Duration::from_millis(100)).await;
    let _workers_b = engine_b.start_workers(1).await.unwrap();
    assert_eq!(
        engine_b.list_active_runs().await.unwrap(),
        std::slice::from_ref(&run_id)
    );
    assert!(engine_b.recover(&run_id).await.unwrap());
    let output = timeout(WAIT, stream.output()).await.unwrap().unwrap();
    assert_eq!(output.text, FULL_TEXT);
    assert_eq!(output.usage, Usage::new(30, 15));
    let log_len = durable.context().channel.log_len(&run_id).await.unwrap();
    let calls = model.gate.calls();
    assert_eq!(calls, 4);

    // "SIGCONT": a's model stream goes on, but a no longer owns the run.
    leases.resume();
    model.gate.release.notify_one();
    sleep(LEASE_TTL).await;
    assert_eq!(
        durable.context().channel.log_len(&run_id).await.unwrap(),
        log_len,
        "the superseded executor wrote nothing"
    );
    assert_eq!(model.gate.calls(), calls, "and called no model");
    use mastra_workflows::WorkflowStore;
    assert!(
        deployment.store.load(&run_id).await.unwrap().is_none(),
        "nor stored state"
    );
    assert_eq!(on_finish.settles_at(1).await, 1);

    let events = envelopes(&durable, &run_id).await;
    assert_eq!(count(&events, EventType::Finish), 1);
    let claim = events
        .iter()
        .find(|e| e.kind == EventType::OwnershipClaimed)
        .expect("the new owner announced itself");
    let generation = claim.generation.unwrap();
    assert_eq!(claim.data["generation"], generation);
    let void_from = claim.data["voidFrom"].as_u64().unwrap();
    assert!(void_from < claim.index.unwrap());
    let older = events
        .iter()
        .filter(|e| e.index > claim.index)
        .filter(|e| e.generation.is_some_and(|g| g < generation));
    assert_eq!(older.count(), 0);
    assert_eq!(client_text(&events), FULL_TEXT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_drop_events_of_an_older_generation() {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let (_engine, durable) = deployment.instance("a", agent(&model, &lookups));
    // No workers: write the run's events by hand, as two owners would.
    let stream = durable
        .stream("question", StreamOptions::new())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    let channel = &durable.context().channel;
    let chunk = |text: &str, generation: u64| {
        let data = json!({"type": "text-delta", "runId": run_id, "from": "AGENT",
            "payload": {"id": "m", "text": text}});
        Event::new(EventType::Chunk, run_id.as_str(), data).with_generation(generation)
    };
    channel.publish(&run_id, chunk("old ", 1)).await.unwrap();
    let claim = Event::new(
        EventType::OwnershipClaimed,
        run_id.as_str(),
        json!({"generation": 2, "voidFrom": 1, "step": 0}),
    )
    .with_generation(2);
    channel.publish(&run_id, claim).await.unwrap();
    channel.publish(&run_id, chunk("stale ", 1)).await.unwrap();
    channel.publish(&run_id, chunk("new", 2)).await.unwrap();
    let finish = Event::new(EventType::Finish, run_id.as_str(), json!({})).with_generation(2);
    channel.publish(&run_id, finish).await.unwrap();

    let events = envelopes(&durable, &run_id).await;
    let indices: Vec<u64> = events.iter().filter_map(|e| e.index).collect();
    assert_eq!(
        indices,
        [0, 1, 2, 4, 5],
        "index 3 (generation 1 after 2) is dropped"
    );
    assert_eq!(client_text(&events), "new");
}
