//! Scenarios of the [`WorkflowStore`] operations that take a run's lease along
//! ([`claim_and_load`](WorkflowStore::claim_and_load),
//! [`save_and_release`](WorkflowStore::save_and_release)), with the leases a factory pairs
//! with its handles ([`WorkflowStoreFactory::open_with_leases`]): a backend that folds the
//! lease into its own script must behave exactly like the two separate calls.

use std::sync::Arc;
use std::time::Duration;

use mastra_pubsub::LeaseProvider;
use mastra_workflows::{RunLease, WorkflowStore};

use super::workflow::{empty, run};
use super::WorkflowStoreFactory;

/// The lease key of run `r`, and the TTL the scenarios claim it for.
pub(super) const KEY: &str = "workflow-run:r";
pub(super) const TTL: Duration = Duration::from_secs(30);

pub(super) fn lease<'a>(
    leases: &'a dyn LeaseProvider,
    owner: &'a str,
    ttl: Duration,
) -> RunLease<'a> {
    RunLease {
        leases,
        key: KEY,
        owner,
        ttl,
    }
}

/// A claim is refused while another owner holds the lease; once granted it returns the
/// generation and the run as stored (or none), and a save that releases frees the run
/// for the next owner, who reads that save.
pub async fn claim_and_load_reads_after_the_claim(factory: &dyn WorkflowStoreFactory) {
    let mut handles = factory.open_with_leases(2).await;
    let (store_b, leases_b) = handles.remove(1);
    let (store_a, leases_a) = handles.remove(0);
    let (claim_a, stored) = store_a
        .claim_and_load(lease(&*leases_a, "a", TTL), "r")
        .await
        .unwrap()
        .expect("a free lease is granted");
    assert_eq!(stored, None, "no run stored yet");
    assert!(claim_a.generation >= 1);
    assert_eq!(leases_a.owner(KEY).await.unwrap().as_deref(), Some("a"));
    store_a.put(&run("r", 0, 0, "put")).await.unwrap();

    let refused = store_b
        .claim_and_load(lease(&*leases_b, "b", TTL), "r")
        .await
        .unwrap();
    assert!(refused.is_none(), "held by a: {refused:?}");
    // The holder asking again keeps its generation and reads the run.
    let (again, stored) = store_a
        .claim_and_load(lease(&*leases_a, "a", TTL), "r")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.generation, claim_a.generation);
    assert_eq!(stored, Some(run("r", 0, 0, "put")));

    let saved = run("r", claim_a.generation, 1, "a:1");
    assert!(store_a
        .save_and_release(&saved, lease(&*leases_a, "a", TTL))
        .await
        .unwrap());
    assert_eq!(leases_a.owner(KEY).await.unwrap(), None, "released");
    let (claim_b, stored) = store_b
        .claim_and_load(lease(&*leases_b, "b", TTL), "r")
        .await
        .unwrap()
        .expect("free again");
    assert_eq!(claim_b.generation, claim_a.generation + 1);
    assert_eq!(stored, Some(saved), "the previous owner's save");
    assert!(leases_b.release(KEY, "b").await.unwrap());
    empty(&*store_b).await;
}

/// A superseded owner's combined save is refused (the store keeps its successor's
/// state), and its release leaves the successor's lease alone; a save of a missing run
/// is refused too but still gives the lease back.
pub async fn a_stale_owner_combined_save_is_refused(factory: &dyn WorkflowStoreFactory) {
    let mut handles = factory.open_with_leases(2).await;
    let (store_new, leases_new) = handles.remove(1);
    let (store_old, leases_old) = handles.remove(0);
    store_old.put(&run("r", 0, 3, "step 3")).await.unwrap();
    let short = Duration::from_millis(60);
    let (old, _) = store_old
        .claim_and_load(lease(&*leases_old, "old", short), "r")
        .await
        .unwrap()
        .unwrap();
    // The old owner stalls past its lease; a new owner claims the run and fences it.
    tokio::time::sleep(short * 3).await;
    let (new, stored) = store_new
        .claim_and_load(lease(&*leases_new, "new", TTL), "r")
        .await
        .unwrap()
        .expect("the stale lease expired");
    assert!(new.generation > old.generation);
    assert_eq!(stored.map(|r| r.step), Some(3));
    assert!(store_new.fence("r", new.generation).await.unwrap());

    let late = run("r", old.generation, 4, "stale");
    let saved = store_old
        .save_and_release(&late, lease(&*leases_old, "old", short))
        .await
        .unwrap();
    assert!(!saved, "a superseded owner's save landed");
    let stored = store_new.load("r").await.unwrap().unwrap();
    assert_eq!((stored.step, stored.data.as_str()), (3, "step 3"));
    assert_eq!(
        leases_new.owner(KEY).await.unwrap().as_deref(),
        Some("new"),
        "the stale owner's release took the new owner's lease"
    );

    let next = run("r", new.generation, 4, "new:4");
    assert!(store_new
        .save_and_release(&next, lease(&*leases_new, "new", TTL))
        .await
        .unwrap());
    assert_eq!(store_new.load("r").await.unwrap(), Some(next));
    assert_eq!(leases_new.owner(KEY).await.unwrap(), None);

    // No record: refused, and the lease is given back all the same.
    empty(&*store_new).await;
    let (claim, stored) = store_new
        .claim_and_load(lease(&*leases_new, "new", TTL), "r")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, None);
    let missing = run("r", claim.generation, 5, "gone");
    assert!(!store_new
        .save_and_release(&missing, lease(&*leases_new, "new", TTL))
        .await
        .unwrap());
    assert_eq!(leases_new.owner(KEY).await.unwrap(), None);
    assert_eq!(store_new.load("r").await.unwrap(), None, "nothing created");
    empty(&*store_new).await;
}

/// Owners on separate handles hand one run around: each claims and loads, adds one step,
/// then saves and releases. No step is lost or taken twice, so each load saw the
/// previous owner's save (a claim that read before it, or a release that came before its
/// save, would lose steps).
pub async fn hand_overs_lose_no_step(factory: &dyn WorkflowStoreFactory) {
    const OWNERS: usize = 4;
    const STEPS: u64 = 25;
    let handles = factory.open_with_leases(OWNERS).await;
    handles[0].0.put(&run("r", 0, 0, "")).await.unwrap();
    let mut tasks = Vec::new();
    for (i, (store, leases)) in handles.iter().cloned().enumerate() {
        tasks.push(tokio::spawn(take_steps(
            store,
            leases,
            format!("o{i}"),
            STEPS,
        )));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stored = handles[0].0.load("r").await.unwrap().unwrap();
    assert_eq!(stored.step, OWNERS as u64 * STEPS);
    assert_eq!(stored.data.len() as u64, OWNERS as u64 * STEPS);
    empty(&*handles[0].0).await;
}

async fn take_steps(
    store: Arc<dyn WorkflowStore>,
    leases: Arc<dyn LeaseProvider>,
    owner: String,
    steps: u64,
) {
    let mut taken = 0;
    while taken < steps {
        let claimed = store
            .claim_and_load(lease(&*leases, &owner, TTL), "r")
            .await
            .unwrap();
        let Some((claim, Some(mut record))) = claimed else {
            tokio::task::yield_now().await;
            continue;
        };
        record.step += 1;
        record.generation = claim.generation;
        record.data.push('.');
        let saved = store
            .save_and_release(&record, lease(&*leases, &owner, TTL))
            .await
            .unwrap();
        assert!(saved, "{owner}'s save was refused");
        taken += 1;
    }
}
