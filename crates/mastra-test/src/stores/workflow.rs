//! Scenarios of the [`WorkflowStore`] contract (the in-memory store is the reference).
//!
//! Each scenario opens a fresh store from the factory and leaves it empty (every run
//! removed), so a Redis store leaves no keys behind.

use std::sync::Arc;

use mastra_workflows::{RunPhase, StoredRun, WorkflowStore};

use super::WorkflowStoreFactory;

/// A stored run with the given fields (phase active, no cancel request).
pub fn run(run_id: &str, generation: u64, step: u64, data: &str) -> StoredRun {
    StoredRun {
        run_id: run_id.to_owned(),
        workflow_id: "conformance".to_owned(),
        step,
        generation,
        phase: RunPhase::Active,
        cancel_requested: false,
        held: false,
        data: data.to_owned(),
    }
}

async fn one(factory: &dyn WorkflowStoreFactory) -> Arc<dyn WorkflowStore> {
    factory.open(1).await.remove(0)
}

/// Removes every run (as the newest possible owner) and checks that nothing is left.
pub async fn empty(store: &dyn WorkflowStore) {
    for run_id in store.list().await.unwrap() {
        assert!(store.remove(&run_id, u64::MAX).await.unwrap(), "{run_id}");
    }
    assert!(store.list().await.unwrap().is_empty());
}

async fn sorted_ids(store: &dyn WorkflowStore) -> Vec<String> {
    let mut ids = store.list().await.unwrap();
    ids.sort();
    ids
}

/// `put` creates and replaces unconditionally; `load` returns what was put.
pub async fn put_creates_and_replaces(factory: &dyn WorkflowStoreFactory) {
    let store = one(factory).await;
    assert_eq!(store.load("r").await.unwrap(), None);
    let first = run("r", 4, 2, r#"{"a":1}"#);
    store.put(&first).await.unwrap();
    assert_eq!(store.load("r").await.unwrap(), Some(first));
    // A put is not fenced: a resumed run may start over at a lower generation.
    let mut replaced = run("r", 1, 0, "null");
    replaced.phase = RunPhase::Suspended;
    store.put(&replaced).await.unwrap();
    assert_eq!(store.load("r").await.unwrap(), Some(replaced));
    assert_eq!(sorted_ids(&*store).await, ["r"]);
    empty(&*store).await;
}

/// `save` needs an existing record whose generation is not newer than the writer's.
pub async fn save_is_fenced_by_generation(factory: &dyn WorkflowStoreFactory) {
    let store = one(factory).await;
    assert!(
        !store.save(&run("r", 1, 1, "x")).await.unwrap(),
        "no record"
    );
    assert_eq!(
        store.load("r").await.unwrap(),
        None,
        "a refused save creates nothing"
    );
    assert!(store.list().await.unwrap().is_empty());

    store.put(&run("r", 2, 0, "put")).await.unwrap();
    assert!(
        !store.save(&run("r", 1, 1, "old")).await.unwrap(),
        "older writer"
    );
    assert_eq!(store.load("r").await.unwrap().unwrap().data, "put");
    assert!(
        store.save(&run("r", 2, 1, "same")).await.unwrap(),
        "same generation"
    );
    assert!(
        store.save(&run("r", 5, 2, "newer")).await.unwrap(),
        "newer writer"
    );
    assert!(!store.save(&run("r", 4, 3, "stale")).await.unwrap());
    let mut last = run("r", 5, 3, "last");
    last.phase = RunPhase::Finished;
    assert!(store.save(&last).await.unwrap());
    assert_eq!(store.load("r").await.unwrap(), Some(last));
    empty(&*store).await;
}

/// `fence` raises the stored generation (and nothing else); older owners are refused
/// from then on, the fencing owner is not.
pub async fn fence_raises_the_generation(factory: &dyn WorkflowStoreFactory) {
    let store = one(factory).await;
    assert!(!store.fence("r", 1).await.unwrap(), "no record");
    assert_eq!(store.load("r").await.unwrap(), None);
    store.put(&run("r", 1, 3, "state")).await.unwrap();
    assert!(store.fence("r", 3).await.unwrap());
    let fenced = store.load("r").await.unwrap().unwrap();
    assert_eq!(
        fenced,
        run("r", 3, 3, "state"),
        "only the generation changes"
    );
    assert!(
        store.fence("r", 3).await.unwrap(),
        "the same generation again"
    );
    assert!(
        !store.fence("r", 2).await.unwrap(),
        "generations never go back"
    );
    assert_eq!(store.load("r").await.unwrap().unwrap().generation, 3);
    assert!(!store.save(&run("r", 2, 4, "late")).await.unwrap());
    assert!(!store.remove("r", 2).await.unwrap());
    assert!(store.save(&run("r", 3, 4, "owner")).await.unwrap());
    assert_eq!(store.load("r").await.unwrap().unwrap().data, "owner");
    empty(&*store).await;
}

/// Generations compare as integers, exactly, over the whole `u64` range (not as text,
/// not as floating point).
pub async fn generations_compare_exactly(factory: &dyn WorkflowStoreFactory) {
    let store = one(factory).await;
    store.put(&run("r", 9, 0, "nine")).await.unwrap();
    assert!(store.fence("r", 10).await.unwrap(), "10 > 9 (not as text)");
    assert!(!store.save(&run("r", 9, 1, "nine")).await.unwrap());
    let big = (1u64 << 53) + 1; // not representable as an f64
    assert!(store.fence("r", big).await.unwrap());
    assert!(!store.save(&run("r", big - 1, 1, "x")).await.unwrap());
    assert!(store.save(&run("r", big, 1, "big")).await.unwrap());
    assert_eq!(store.load("r").await.unwrap().unwrap().generation, big);
    assert!(store.fence("r", u64::MAX).await.unwrap());
    assert!(!store.save(&run("r", u64::MAX - 1, 2, "x")).await.unwrap());
    assert!(!store.remove("r", u64::MAX - 1).await.unwrap());
    let max = store.load("r").await.unwrap().unwrap();
    assert_eq!((max.generation, max.data.as_str()), (u64::MAX, "big"));
    empty(&*store).await;
}

/// A cancel request sticks through later saves (whatever the saved record says) until
/// the run is put again.
pub async fn cancel_requests_survive_saves(factory: &dyn WorkflowStoreFactory) {
    let store = one(factory).await;
    assert!(!store.request_cancel("r").await.unwrap(), "no record");
    assert_eq!(store.load("r").await.unwrap(), None, "nothing created");
    store.put(&run("r", 1, 0, "s")).await.unwrap();
    assert!(store.request_cancel("r").await.unwrap());
    assert!(store.request_cancel("r").await.unwrap(), "twice is fine");
    assert!(store.load("r").await.unwrap().unwrap().cancel_requested);
    assert!(store.save(&run("r", 1, 1, "t")).await.unwrap());
    let saved = store.load("r").await.unwrap().unwrap();
    assert!(saved.cancel_requested, "a save keeps the request");
    assert_eq!((saved.step, saved.data.as_str()), (1, "t"));
    assert!(store.fence("r", 2).await.unwrap());
    assert!(store.load("r").await.unwrap().unwrap().cancel_requested);
    // A put replaces the whole record, its cancel flag included.
    store.put(&run("r", 2, 0, "again")).await.unwrap();
    assert!(!store.load("r").await.unwrap().unwrap().cancel_requested);
    let mut cancelled = run("r", 2, 1, "by-save");
    cancelled.cancel_requested = true;
    assert!(store.save(&cancelled).await.unwrap());
    assert!(store.load("r").await.unwrap().unwrap().cancel_requested);
    empty(&*store).await;
}

/// `remove` is fenced like `save`, and forgets the run (load and list).
pub async fn remove_is_fenced(factory: &dyn WorkflowStoreFactory) {
    let store = one(factory).await;
    assert!(!store.remove("r", 1).await.unwrap(), "no record");
    store.put(&run("r", 2, 0, "s")).await.unwrap();
    store.put(&run("other", 1, 0, "o")).await.unwrap();
    assert!(!store.remove("r", 1).await.unwrap(), "older owner");
    assert!(store.load("r").await.unwrap().is_some());
    assert!(store.remove("r", 2).await.unwrap());
    assert_eq!(store.load("r").await.unwrap(), None);
    assert!(!store.remove("r", 2).await.unwrap(), "already gone");
    assert!(
        !store.save(&run("r", 2, 1, "s")).await.unwrap(),
        "gone for saves"
    );
    assert_eq!(sorted_ids(&*store).await, ["other"]);
    assert!(
        store.remove("other", 7).await.unwrap(),
        "a newer owner may remove"
    );
    assert!(store.list().await.unwrap().is_empty());
}

/// `list` names every stored run once, and runs are independent of one another.
pub async fn list_names_every_run(factory: &dyn WorkflowStoreFactory) {
    let store = one(factory).await;
    assert!(store.list().await.unwrap().is_empty());
    for (i, id) in ["a", "b:1", "c d", "é"].iter().enumerate() {
        store.put(&run(id, i as u64, 0, id)).await.unwrap();
    }
    store.put(&run("a", 9, 1, "again")).await.unwrap();
    assert_eq!(sorted_ids(&*store).await, ["a", "b:1", "c d", "é"]);
    assert!(store.fence("b:1", 5).await.unwrap());
    assert!(store.request_cancel("c d").await.unwrap());
    assert_eq!(store.load("a").await.unwrap().unwrap().generation, 9);
    assert!(!store.load("a").await.unwrap().unwrap().cancel_requested);
    assert_eq!(store.load("é").await.unwrap().unwrap().data, "é");
    assert!(store.remove("c d", 2).await.unwrap());
    assert_eq!(sorted_ids(&*store).await, ["a", "b:1", "é"]);
    empty(&*store).await;
}

/// The engine's state text is stored verbatim: quotes, newlines, non-ASCII and large
/// values, with every phase.
pub async fn data_is_stored_verbatim(factory: &dyn WorkflowStoreFactory) {
    let store = one(factory).await;
    let big = "x".repeat(256 * 1024);
    let texts = [
        String::new(),
        r#"{"text":"line\nbreak \"quoted\" \\ ünïcödé 🚀","n":[1,2.5,-3e40]}"#.to_owned(),
        "not json at all {".to_owned(),
        big,
    ];
    for (i, data) in texts.iter().enumerate() {
        let id = format!("run-{i}");
        let mut record = run(&id, 1, i as u64, data);
        record.phase = [RunPhase::Active, RunPhase::Suspended, RunPhase::Finished][i % 3];
        store.put(&record).await.unwrap();
        assert_eq!(store.load(&id).await.unwrap().as_ref(), Some(&record));
        record.step += 1;
        assert!(store.save(&record).await.unwrap());
        assert_eq!(store.load(&id).await.unwrap(), Some(record));
    }
    empty(&*store).await;
}

/// Whether the writer kept the run's lease (`held`) is stored with each save and read
/// back as written; a fence leaves it as it is (the fenced writer's last word).
pub async fn held_is_stored_with_each_save(factory: &dyn WorkflowStoreFactory) {
    let store = one(factory).await;
    let mut record = run("r", 1, 0, "{}");
    store.put(&record).await.unwrap();
    for (step, held) in [(1, true), (2, true), (3, false), (4, true)] {
        record.step = step;
        record.held = held;
        assert!(store.save(&record).await.unwrap());
        let loaded = store.load("r").await.unwrap().unwrap();
        assert_eq!(loaded.held, held, "step {step}");
    }
    assert!(store.fence("r", 2).await.unwrap());
    let fenced = store.load("r").await.unwrap().unwrap();
    assert_eq!((fenced.generation, fenced.held), (2, true));
    empty(&*store).await;
}

/// `save_reading_cancel` saves as `save` does and reads the stored cancel flag in the same
/// operation: `None` when refused, else whether a cancel request is stored.
pub async fn save_reading_cancel_reports_a_stored_request(factory: &dyn WorkflowStoreFactory) {
    let store = one(factory).await;
    let mut record = run("r", 1, 0, "{}");
    assert_eq!(store.save_reading_cancel(&record).await.unwrap(), None);
    store.put(&record).await.unwrap();
    record.step = 1;
    assert_eq!(
        store.save_reading_cancel(&record).await.unwrap(),
        Some(false)
    );
    assert_eq!(store.load("r").await.unwrap().unwrap().step, 1);
    assert!(store.request_cancel("r").await.unwrap());
    record.step = 2;
    assert_eq!(
        store.save_reading_cancel(&record).await.unwrap(),
        Some(true)
    );
    let saved = store.load("r").await.unwrap().unwrap();
    assert_eq!((saved.step, saved.cancel_requested), (2, true));
    // A fenced-out writer is refused and learns nothing.
    assert!(store.fence("r", 2).await.unwrap());
    record.step = 3;
    assert_eq!(store.save_reading_cancel(&record).await.unwrap(), None);
    assert_eq!(store.load("r").await.unwrap().unwrap().step, 2);
    empty(&*store).await;
}

/// Claimants with generations 1..=K, each on its own handle (its own connections), fence
/// and then save concurrently: only the newest generation's writes survive, and once a
/// claimant is refused it stays refused (a generation never goes back).
pub async fn concurrent_claimants_newest_generation_wins(factory: &dyn WorkflowStoreFactory) {
    const CLAIMANTS: u64 = 6;
    const SAVES: u64 = 40;
    let handles = factory.open(CLAIMANTS as usize).await;
    handles[0].put(&run("race", 0, 0, "start")).await.unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(CLAIMANTS as usize));
    let mut tasks = Vec::new();
    for (i, store) in handles.iter().cloned().enumerate() {
        let generation = i as u64 + 1;
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let fenced = store.fence("race", generation).await.unwrap();
            let mut outcomes = Vec::new();
            for step in 1..=SAVES {
                let data = format!("{generation}:{step}");
                outcomes.push(
                    store
                        .save(&run("race", generation, step, &data))
                        .await
                        .unwrap(),
                );
                tokio::task::yield_now().await;
            }
            (generation, fenced, outcomes)
        }));
    }
    for task in tasks {
        let (generation, fenced, outcomes) = task.await.unwrap();
        let first_refusal = outcomes.iter().position(|saved| !saved);
        if let Some(at) = first_refusal {
            assert!(
                outcomes[at..].iter().all(|saved| !saved),
                "generation {generation} wrote again after it was superseded: {outcomes:?}"
            );
        }
        if generation == CLAIMANTS {
            assert!(fenced, "the newest claim always fences");
            assert!(
                outcomes.iter().all(|saved| *saved),
                "the newest owner is never refused"
            );
        }
        if !fenced {
            assert!(
                outcomes.iter().all(|saved| !saved),
                "a refused claimant writes nothing"
            );
        }
    }
    let stored = handles[0].load("race").await.unwrap().unwrap();
    assert_eq!(stored.generation, CLAIMANTS);
    assert_eq!(
        stored.data,
        format!("{CLAIMANTS}:{SAVES}"),
        "the newest owner's last write"
    );
    assert_eq!(stored.step, SAVES);
    empty(&*handles[0]).await;
}

/// An old owner keeps saving while a new owner claims the run: after the claim's fence
/// returns, none of the old owner's writes (or its remove) land.
pub async fn a_superseded_owner_never_overwrites(factory: &dyn WorkflowStoreFactory) {
    let handles = factory.open(2).await;
    let (old, new) = (handles[0].clone(), handles[1].clone());
    old.put(&run("r", 1, 0, "old:0")).await.unwrap();
    let fenced = Arc::new(tokio::sync::Notify::new());
    let writer = {
        let (old, fenced) = (old.clone(), fenced.clone());
        tokio::spawn(async move {
            let mut step = 0;
            // Write until the new owner's fence is in, then a few more times.
            let mut after = 0;
            let mut notified = std::pin::pin!(fenced.notified());
            loop {
                step += 1;
                let saved = old
                    .save(&run("r", 1, step, &format!("old:{step}")))
                    .await
                    .unwrap();
                if after > 0 {
                    assert!(
                        !saved,
                        "write {step} of the old owner landed after the fence"
                    );
                    after += 1;
                    if after > 20 {
                        break;
                    }
                } else if futures::poll!(notified.as_mut()).is_ready() {
                    after = 1;
                }
                tokio::task::yield_now().await;
            }
            assert!(!old.remove("r", 1).await.unwrap());
            step
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(new.fence("r", 2).await.unwrap());
    fenced.notify_one();
    assert!(new.save(&run("r", 2, 100, "new")).await.unwrap());
    let old_steps = writer.await.unwrap();
    assert!(old_steps > 20);
    let stored = new.load("r").await.unwrap().unwrap();
    assert_eq!((stored.generation, stored.data.as_str()), (2, "new"));
    empty(&*new).await;
}

/// A cancel request racing a stream of saves is never lost.
pub async fn cancel_racing_saves_is_kept(factory: &dyn WorkflowStoreFactory) {
    let handles = factory.open(2).await;
    let (owner, canceller) = (handles[0].clone(), handles[1].clone());
    owner.put(&run("r", 1, 0, "s")).await.unwrap();
    let saving = {
        let owner = owner.clone();
        tokio::spawn(async move {
            for step in 1..=100 {
                assert!(owner.save(&run("r", 1, step, "s")).await.unwrap());
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(canceller.request_cancel("r").await.unwrap());
    saving.await.unwrap();
    let stored = owner.load("r").await.unwrap().unwrap();
    assert!(stored.cancel_requested, "a save dropped the cancel request");
    assert_eq!(stored.step, 100);
    empty(&*owner).await;
}
