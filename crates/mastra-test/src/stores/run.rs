//! Scenarios of the durable agent's [`RunStore`] contract (the in-memory store is the
//! reference).
//!
//! Each scenario opens a fresh store from the factory and leaves it empty.

use std::sync::Arc;

use mastra_core::{Message, RunState, Suspension, SuspensionKind, Usage};
use mastra_durable::{RunRecord, RunStatus, RunStore};

use super::RunStoreFactory;

/// A record of run `run_id` with a small conversation, `status` and (when suspended) one
/// approval it waits on.
pub fn record(run_id: &str, status: RunStatus) -> RunRecord {
    let state: RunState = serde_json::from_value(serde_json::json!({
        "runId": run_id,
        "agentId": "conformance-agent",
        "messages": [],
        "maxSteps": 5,
    }))
    .unwrap();
    let mut state = state;
    state.messages = vec![
        Message::system("be brief"),
        Message::user("weather in \"Zürich\"?\nthanks"),
        Message::assistant("checking 🌦"),
    ];
    state.usage = Usage::new(12, 7);
    state.text = "checking 🌦".to_owned();
    state.started = true;
    let suspensions = match status {
        RunStatus::Suspended => vec![Suspension {
            tool_call_id: "call-1".to_owned(),
            tool_name: "weather".to_owned(),
            args: serde_json::json!({"city": "Zürich", "days": [1, 2]}),
            suspend_payload: Some(serde_json::json!({"reason": "needs approval"})),
            kind: SuspensionKind::Approval,
        }],
        RunStatus::Running | RunStatus::Finished => Vec::new(),
    };
    RunRecord {
        state,
        status,
        suspensions,
    }
}

async fn one(factory: &dyn RunStoreFactory) -> Arc<dyn RunStore> {
    factory.open(1).await.remove(0)
}

/// Deletes every run and checks that nothing is left.
pub async fn empty(store: &dyn RunStore) {
    for run_id in store.list().await.unwrap() {
        store.delete(&run_id).await.unwrap();
    }
    assert!(store.list().await.unwrap().is_empty());
}

async fn sorted_ids(store: &dyn RunStore) -> Vec<String> {
    let mut ids = store.list().await.unwrap();
    ids.sort();
    ids
}

/// `save` creates and replaces; `load` returns exactly what was saved.
pub async fn save_creates_and_replaces(factory: &dyn RunStoreFactory) {
    let store = one(factory).await;
    assert_eq!(store.load("r").await.unwrap(), None);
    let running = record("r", RunStatus::Running);
    store.save(&running).await.unwrap();
    assert_eq!(store.load("r").await.unwrap(), Some(running));
    let suspended = record("r", RunStatus::Suspended);
    store.save(&suspended).await.unwrap();
    assert_eq!(store.load("r").await.unwrap(), Some(suspended.clone()));
    assert_eq!(
        store.load("r").await.unwrap(),
        Some(suspended),
        "load keeps it"
    );
    assert_eq!(sorted_ids(&*store).await, ["r"]);
    empty(&*store).await;
}

/// `take` returns the record and removes it; a second take finds nothing.
pub async fn take_removes_the_record(factory: &dyn RunStoreFactory) {
    let store = one(factory).await;
    assert_eq!(store.take("r").await.unwrap(), None);
    let suspended = record("r", RunStatus::Suspended);
    store.save(&suspended).await.unwrap();
    store
        .save(&record("other", RunStatus::Running))
        .await
        .unwrap();
    assert_eq!(store.take("r").await.unwrap(), Some(suspended));
    assert_eq!(store.take("r").await.unwrap(), None);
    assert_eq!(store.load("r").await.unwrap(), None);
    assert_eq!(sorted_ids(&*store).await, ["other"]);
    empty(&*store).await;
}

/// `delete` forgets a run (missing runs are fine); `list` names every stored run once.
pub async fn delete_and_list(factory: &dyn RunStoreFactory) {
    let store = one(factory).await;
    store.delete("missing").await.unwrap();
    for id in ["a", "b:1", "c d", "é"] {
        store.save(&record(id, RunStatus::Suspended)).await.unwrap();
    }
    store.save(&record("a", RunStatus::Finished)).await.unwrap();
    assert_eq!(sorted_ids(&*store).await, ["a", "b:1", "c d", "é"]);
    store.delete("c d").await.unwrap();
    assert_eq!(store.load("c d").await.unwrap(), None);
    assert_eq!(sorted_ids(&*store).await, ["a", "b:1", "é"]);
    assert_eq!(
        store.load("a").await.unwrap().unwrap().status,
        RunStatus::Finished
    );
    empty(&*store).await;
}

/// Of several callers (each on its own handle) racing to take one paused run, exactly one
/// gets it.
pub async fn racing_takes_give_the_run_to_one(factory: &dyn RunStoreFactory) {
    const RACERS: usize = 8;
    let handles = factory.open(RACERS).await;
    for round in 0..10 {
        let run_id = format!("race-{round}");
        handles[0]
            .save(&record(&run_id, RunStatus::Suspended))
            .await
            .unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
        let tasks: Vec<_> = handles
            .iter()
            .cloned()
            .map(|store| {
                let (run_id, barrier) = (run_id.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.take(&run_id).await.unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            if let Some(taken) = task.await.unwrap() {
                assert_eq!(taken, record(&run_id, RunStatus::Suspended));
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
    empty(&*handles[0]).await;
}
