//! Crash recovery (checklist 23 and 26): a worker that dies in the middle of a step, or
//! between storing a step and queueing the next, leaves its message unacknowledged; another
//! worker takes it once the dead worker's lease has expired, and the run goes on from its
//! last completed step: right text and usage, exactly one `finish`, `on_finish` once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_core::Usage;
use mastra_pubsub::EventType;
use mastra_workflows::WorkflowStore;
use std::sync::Arc;
use std::time::Duration;
use support::*;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
enum Kill {
    /// Mid-stream in model call `n` (0-based).
    Model(usize),
    /// Inside tool call `n`.
    Tool(usize),
    /// Right after storing the checkpoint of step `n`, before queueing step `n + 1`.
    AfterCheckpoint(u64),
}

struct Recovered {
    text: String,
    usage: Usage,
    events: Vec<Arc<mastra_pubsub::Event>>,
    on_finish: usize,
    model_calls: usize,
    keys: Vec<String>,
    run_id: String,
}

/// Instance `a` (one worker) starts the run and dies at `kill`; instance `b` finishes it.
async fn crash(kill: Kill) -> Recovered {
    let (model, lookups) = (RoundModel::two_tool_rounds(), Lookups::new());
    let deployment = Deployment::new();
    let freeze_at = match kill {
        Kill::AfterCheckpoint(step) => step,
        _ => u64::MAX,
    };
    let freezing = FreezingStore::new(deployment.store.clone(), freeze_at);
    let store: Arc<dyn WorkflowStore> = freezing.clone();
    let (engine_a, durable_a) = deployment.instance_with(
        "a",
        agent(&model, &lookups),
        store,
        deployment.leases.clone(),
    );
    let (engine_b, _) = deployment.instance("b", agent(&model, &lookups));
    match kill {
        Kill::Model(n) => model.gate.stop_at(n),
        Kill::Tool(n) => lookups.gate.stop_at(n),
        Kill::AfterCheckpoint(_) => {}
    }
    let workers_a = engine_a.start_workers(1).await.unwrap();
    let on_finish = Counter::default();
    let stream = durable_a
        .stream("question", on_finish.on_finish())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    let reached = match kill {
        Kill::Model(_) => model.gate.reached.notified(),
        Kill::Tool(_) => lookups.gate.reached.notified(),
        Kill::AfterCheckpoint(_) => freezing.frozen.notified(),
    };
    timeout(WAIT, reached)
        .await
        .expect("the crash point is reached");
    // The second instance's worker joins, then the first one dies.
    let _workers_b = engine_b.start_workers(1).await.unwrap();
    workers_a.abort();
    let output = timeout(WAIT, stream.output()).await.unwrap().unwrap();
    Recovered {
        text: output.text,
        usage: output.usage,
        events: envelopes(&durable_a, &run_id).await,
        on_finish: on_finish.settles_at(1).await,
        model_calls: model.gate.calls(),
        keys: lookups.keys(),
        run_id,
    }
}

fn assert_consistent(kill: Kill, run: &Recovered) {
    assert_eq!(run.text, FULL_TEXT, "{kill:?}");
    assert_eq!(run.usage, Usage::new(30, 15), "{kill:?}");
    assert_eq!(count(&run.events, EventType::Finish), 1, "{kill:?}");
    assert_eq!(run.on_finish, 1, "{kill:?}");
    assert_eq!(client_text(&run.events), FULL_TEXT, "{kill:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_step_is_recovered_from_the_last_completed_step() {
    for kill in [
        Kill::Model(0),
        Kill::Tool(0),
        Kill::Model(1),
        Kill::Tool(1),
        Kill::Model(2),
    ] {
        let run = crash(kill).await;
        assert_consistent(kill, &run);
        let (call_0, call_1) = (
            format!("{}:call-0", run.run_id),
            format!("{}:call-1", run.run_id),
        );
        // Completed steps never run again; the interrupted one runs once more, with the
        // same idempotency key for its tool call.
        match kill {
            Kill::Model(_) => {
                assert_eq!(run.model_calls, 4, "{kill:?}");
                assert_eq!(run.keys, [call_0.clone(), call_1.clone()], "{kill:?}");
            }
            Kill::Tool(n) => {
                assert_eq!(run.model_calls, 3, "{kill:?}");
                let mut expected = vec![call_0.clone(), call_1.clone()];
                expected.insert(n, expected[n].clone());
                assert_eq!(run.keys, expected, "{kill:?}");
            }
            Kill::AfterCheckpoint(_) => unreachable!(),
        }
        let claims = count(&run.events, EventType::OwnershipClaimed);
        assert_eq!(claims, 1, "{kill:?}: the new owner announces the re-run");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_from_every_persisted_checkpoint_of_a_two_tool_round_run() {
    // Checkpoint 0 is the queued run (a crash in the first model call); checkpoints 1-5
    // follow the model and tool steps (the sixth step ends the run).
    let run = crash(Kill::Model(0)).await;
    assert_consistent(Kill::Model(0), &run);
    for step in 1..=5 {
        let kill = Kill::AfterCheckpoint(step);
        let run = crash(kill).await;
        assert_consistent(kill, &run);
        assert_eq!(run.model_calls, 3, "{kill:?}: no step ran twice");
        assert_eq!(run.keys.len(), 2, "{kill:?}: no tool ran twice");
    }
}
