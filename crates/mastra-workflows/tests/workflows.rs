//! Typed workflows on the evented engine: sequence, loop-while, for-each with a
//! concurrency limit, failures, and a worker killed mid-step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mastra_pubsub::{EventEmitterPubSub, PubSub};
use mastra_workflows::workflow::{step, workflow, WorkflowEngine};
use mastra_workflows::{InMemoryWorkflowStore, WorkflowError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

fn engine(pubsub: &Arc<EventEmitterPubSub>, store: &Arc<InMemoryWorkflowStore>) -> WorkflowEngine {
    let pubsub: Arc<dyn PubSub> = pubsub.clone();
    WorkflowEngine::builder(pubsub)
        .store(store.clone())
        .lease_ttl(Duration::from_millis(200))
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_loop_and_for_each_with_a_concurrency_limit() {
    let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (r, p) = (running.clone(), peak.clone());
    let flow = workflow::<String>("words")
        .then(step("split", |s: String| async move {
            Ok::<_, String>(s.split(' ').map(str::to_owned).collect::<Vec<_>>())
        }))
        .for_each(
            step("measure", move |w: String| {
                let (running, peak) = (r.clone(), p.clone());
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, String>(w.len() as u64)
                }
            }),
            2,
        )
        .then(step("sum", |v: Vec<u64>| async move {
            Ok::<_, String>(v.iter().sum::<u64>())
        }))
        .loop_while(
            step("double", |n: u64| async move { Ok::<_, String>(n * 2) }),
            |n| *n < 100,
        )
        .build();
    let (pubsub, store) = (Arc::new(EventEmitterPubSub::new()), Arc::default());
    let engine = engine(&pubsub, &store);
    engine.register(&flow);
    let _workers = engine.start_workers(2).await.unwrap();
    let run_id = engine
        .start(&flow, "a bb ccc dddd e".to_owned())
        .await
        .unwrap();
    let out = timeout(WAIT, engine.result(&flow, &run_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out, 176, "11 doubled until it reaches 100");
    assert_eq!(peak.load(Ordering::SeqCst), 2, "at most two items at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_ends_the_run_with_its_error() {
    let flow = workflow::<u32>("fails")
        .then(step(
            "boom",
            |_: u32| async move { Err::<u32, _>("no luck") },
        ))
        .build();
    let (pubsub, store) = (Arc::new(EventEmitterPubSub::new()), Arc::default());
    let engine = engine(&pubsub, &store);
    engine.register(&flow);
    let _workers = engine.start_workers(1).await.unwrap();
    let run_id = engine.start(&flow, 1).await.unwrap();
    let error = timeout(WAIT, engine.result(&flow, &run_id))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(error, WorkflowError::Ended { ref reason, .. } if reason.contains("no luck")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_step_is_replaced_and_earlier_steps_do_not_rerun() {
    let first_runs = Arc::new(AtomicUsize::new(0));
    let slow_runs = Arc::new(AtomicUsize::new(0));
    let (f, s) = (first_runs.clone(), slow_runs.clone());
    let flow = workflow::<u32>("crashy")
        .then(step("first", move |n: u32| {
            f.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, String>(n + 1) }
        }))
        .then(step("slow", move |n: u32| {
            let attempt = s.fetch_add(1, Ordering::SeqCst);
            async move {
                if attempt == 0 {
                    std::future::pending::<()>().await; // the worker dies in here
                }
                Ok::<_, String>(n * 10)
            }
        }))
        .build();
    let (pubsub, store) = (Arc::new(EventEmitterPubSub::new()), Arc::default());
    // An API-only instance starts the run; two worker instances share the queue.
    let api = engine(&pubsub, &store);
    let (a, b) = (engine(&pubsub, &store), engine(&pubsub, &store));
    a.register(&flow);
    b.register(&flow);
    let workers_a = a.start_workers(1).await.unwrap();
    let run_id = api.start(&flow, 4).await.unwrap();
    while slow_runs.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _workers_b = b.start_workers(1).await.unwrap();
    workers_a.abort();
    let out = timeout(WAIT, api.result(&flow, &run_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out, 50);
    assert_eq!(first_runs.load(Ordering::SeqCst), 1);
    assert_eq!(slow_runs.load(Ordering::SeqCst), 2);
}
