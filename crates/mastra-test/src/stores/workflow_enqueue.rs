//! Scenarios of [`WorkflowStore::save_release_and_enqueue`], with the leases and the
//! queue transport a factory pairs with its handles
//! ([`WorkflowStoreFactory::open_with_queue`]): a backend that queues the message in its
//! own save script must behave exactly like the separate calls, queueing one message
//! exactly when the save is accepted.
//!
//! [`WorkflowStore::save_release_and_enqueue`]: mastra_workflows::WorkflowStore::save_release_and_enqueue

use std::time::Duration;

use mastra_pubsub::{Event, EventType, GroupSubscription, PubSub};
use mastra_workflows::Enqueue;
use serde_json::json;

use super::workflow::{empty, run};
use super::workflow_lease::{lease, KEY, TTL};
use super::WorkflowStoreFactory;

const TOPIC: &str = "conformance-queue";
const GROUP: &str = "conformance-workers";
/// How long a message that must not come is waited for.
const QUIET: Duration = Duration::from_millis(300);

fn step(pubsub: &dyn PubSub, step: u64) -> Enqueue<'_> {
    let event = Event::new(
        EventType::Other("step".into()),
        "r",
        json!({ "step": step }),
    )
    .with_id(format!("step-{step}"));
    Enqueue {
        pubsub,
        topic: TOPIC,
        event,
    }
}

/// The next message of the group, acknowledged; `None` when none comes within `wait`.
async fn next_message(member: &mut GroupSubscription, wait: Duration) -> Option<Event> {
    let message = tokio::time::timeout(wait, member.next()).await.ok()??;
    let event = message.event().clone();
    message.ack().await.unwrap();
    Some(event)
}

/// An accepted save releases the lease and queues exactly one message, which a member of
/// a consumer group (on another handle) reads once the run is saved.
pub async fn an_accepted_save_queues_one_message(factory: &dyn WorkflowStoreFactory) {
    let mut handles = factory.open_with_queue(2).await;
    let (_, _, queue_b) = handles.remove(1);
    let (store, leases, queue) = handles.remove(0);
    let mut member = queue_b.subscribe_group(TOPIC, GROUP).await.unwrap();
    store.put(&run("r", 0, 3, "step 3")).await.unwrap();
    let (claim, _) = store
        .claim_and_load(lease(&*leases, "a", TTL), "r")
        .await
        .unwrap()
        .expect("a free lease is granted");

    let saved = run("r", claim.generation, 4, "step 4");
    let accepted = store
        .save_release_and_enqueue(&saved, lease(&*leases, "a", TTL), step(&*queue, 4))
        .await
        .unwrap();
    assert!(accepted, "the owner's save was refused");
    assert_eq!(leases.owner(KEY).await.unwrap(), None, "released");
    let event = next_message(&mut member, Duration::from_secs(5))
        .await
        .expect("the next step was not queued");
    assert_eq!(
        (event.id.as_str(), &event.data),
        ("step-4", &json!({ "step": 4 }))
    );
    assert_eq!(
        store.load("r").await.unwrap(),
        Some(saved),
        "the queued step must find the run saved"
    );
    let again = next_message(&mut member, QUIET).await;
    assert!(again.is_none(), "queued twice: {again:?}");

    drop(member);
    queue.clear_topic(TOPIC).await.unwrap();
    empty(&*store).await;
}

/// A superseded owner's save, and a save of a missing run, are refused and queue
/// nothing (the lease of the newer owner is left alone); the newer owner's save then
/// queues its own message, so the member was listening all along.
pub async fn a_refused_save_queues_nothing(factory: &dyn WorkflowStoreFactory) {
    let mut handles = factory.open_with_queue(2).await;
    let (store_new, leases_new, queue_new) = handles.remove(1);
    let (store_old, leases_old, queue_old) = handles.remove(0);
    let mut member = queue_new.subscribe_group(TOPIC, GROUP).await.unwrap();
    store_old.put(&run("r", 0, 3, "step 3")).await.unwrap();
    let (new, _) = store_new
        .claim_and_load(lease(&*leases_new, "new", TTL), "r")
        .await
        .unwrap()
        .unwrap();
    assert!(store_new.fence("r", new.generation).await.unwrap());

    let late = run("r", new.generation - 1, 4, "stale");
    let refused = store_old
        .save_release_and_enqueue(&late, lease(&*leases_old, "old", TTL), step(&*queue_old, 4))
        .await
        .unwrap();
    assert!(!refused, "a superseded owner's save landed");
    let stored = store_new.load("r").await.unwrap().unwrap();
    assert_eq!((stored.step, stored.data.as_str()), (3, "step 3"));
    assert_eq!(
        leases_new.owner(KEY).await.unwrap().as_deref(),
        Some("new"),
        "the stale owner's release took the new owner's lease"
    );
    let queued = next_message(&mut member, QUIET).await;
    assert!(queued.is_none(), "a refused save queued {queued:?}");

    let missing = run("gone", u64::MAX, 1, "gone");
    let refused = store_old
        .save_release_and_enqueue(
            &missing,
            lease(&*leases_old, "old", TTL),
            step(&*queue_old, 1),
        )
        .await
        .unwrap();
    assert!(!refused, "a save of a missing run landed");
    assert_eq!(
        store_old.load("gone").await.unwrap(),
        None,
        "nothing created"
    );

    let next = run("r", new.generation, 4, "new:4");
    assert!(store_new
        .save_release_and_enqueue(&next, lease(&*leases_new, "new", TTL), step(&*queue_new, 5))
        .await
        .unwrap());
    let event = next_message(&mut member, Duration::from_secs(5))
        .await
        .expect("the accepted save's step was not queued");
    assert_eq!(event.id, "step-5", "another message came first");
    assert_eq!(leases_new.owner(KEY).await.unwrap(), None);

    drop(member);
    queue_new.clear_topic(TOPIC).await.unwrap();
    empty(&*store_new).await;
}
