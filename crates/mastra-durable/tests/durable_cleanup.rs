//! Forgetting runs (checklist 17): `cleanup()` on the stream or the agent removes the run's
//! stored state and its logged events, the cleanup timeout does the same for finished runs
//! (zero disables it), and observing what is gone fails at once. Also `no_cache()`: live-only
//! streams, with no log to observe a finished run from.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mastra_cache::{InMemoryServerCache, ServerCache};
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{Agent, StreamOptions};
use mastra_durable::{create_durable_agent, DurableAgent, DurableError, RunStatus};
use mastra_pubsub::EventType;
use serde_json::json;
use support::*;

fn log_key(run_id: &str) -> String {
    format!("pubsub:agent.stream.{run_id}")
}

/// Polls until observing the run is refused; returns how long that took.
async fn wait_forgotten(durable: &DurableAgent, run_id: &str) -> Duration {
    let started = Instant::now();
    within("the run is forgotten", async {
        loop {
            match durable.observe(run_id, 0).await {
                Err(DurableError::UnknownRun { .. }) => return started.elapsed(),
                Err(other) => panic!("{other:?}"),
                Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    })
    .await
}

#[tokio::test]
async fn cleanup_on_the_stream_removes_the_runs_events() {
    let cache = Arc::new(InMemoryServerCache::new());
    let durable = create_durable_agent(demo_agent("counter"))
        .cache(cache.clone())
        .build();
    let mut stream = durable
        .stream("count to 3", StreamOptions::new())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "finish").await;
    assert_eq!(cache.list_len(&log_key(&run_id)).await.unwrap(), 9);

    stream.cleanup().await.unwrap();
    assert_eq!(cache.list_len(&log_key(&run_id)).await.unwrap(), 0);
    assert_unknown_run(
        within("observe", durable.observe(&run_id, 0)).await,
        &run_id,
    );
    assert_unknown_run(
        within("observe", durable.observe(&run_id, 4)).await,
        &run_id,
    );
    // Other runs are untouched.
    let other = durable
        .generate("count to 2", StreamOptions::new())
        .await
        .unwrap();
    assert_eq!(log_of(&durable, &other.run_id).await.len(), 8);
}

#[tokio::test]
async fn cleanup_on_the_agent_removes_a_paused_runs_state_and_events() {
    let model =
        ScriptedModel::new([ScriptedResponse::new().tool_call("pay", json!({"amount": 1}))]);
    let agent = Agent::builder("payer", model)
        .tool(pay_tool(Counter::default()))
        .build();
    let durable = create_durable_agent(agent).build();
    let stream = durable.stream("pay", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut events = durable.observe(&run_id, 0).await.unwrap();
    events_until(&mut events, "suspended").await;
    within("the run pauses", async {
        while durable.run_status(&run_id).await.unwrap() != Some(RunStatus::Suspended) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;

    durable.cleanup(&run_id).await.unwrap();
    assert_eq!(durable.paused_state(&run_id).await.unwrap(), None);
    assert_eq!(durable.run_status(&run_id).await.unwrap(), None);
    assert!(matches!(
        durable.approve_tool_call(&run_id, "call_0").await,
        Err(DurableError::RunState { .. })
    ));
    assert_unknown_run(
        within("observe", durable.observe(&run_id, 0)).await,
        &run_id,
    );
    assert_eq!(durable.context().channel.log_len(&run_id).await.unwrap(), 0);
    drop(stream);
}

#[tokio::test]
async fn finished_runs_are_forgotten_after_the_cleanup_timeout() {
    let durable = create_durable_agent(demo_agent("counter"))
        .cleanup_timeout(Duration::from_millis(50))
        .build();
    let output = durable
        .generate("count to 3", StreamOptions::new())
        .await
        .unwrap();
    // A late subscriber within the timeout still gets the whole run.
    let log = log_of(&durable, &output.run_id).await;
    assert_eq!(log.last().unwrap().kind, EventType::Finish);
    let took = wait_forgotten(&durable, &output.run_id).await;
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(
        durable
            .context()
            .channel
            .log_len(&output.run_id)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_zero_cleanup_timeout_keeps_finished_runs() {
    let kept = create_durable_agent(demo_agent("kept"))
        .cleanup_timeout(Duration::ZERO)
        .build();
    let short = create_durable_agent(demo_agent("short"))
        .cleanup_timeout(Duration::from_millis(20))
        .build();
    let default = create_durable_agent(demo_agent("default")).build();
    let kept_run = kept
        .generate("count to 2", StreamOptions::new())
        .await
        .unwrap();
    let short_run = short
        .generate("count to 2", StreamOptions::new())
        .await
        .unwrap();
    let default_run = default
        .generate("count to 2", StreamOptions::new())
        .await
        .unwrap();
    wait_forgotten(&short, &short_run.run_id).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(log_of(&kept, &kept_run.run_id).await.len(), 8);
    assert_eq!(log_of(&default, &default_run.run_id).await.len(), 8);
}

#[tokio::test]
async fn without_a_cache_streams_are_live_only() {
    let cache: Arc<dyn ServerCache> = Arc::new(InMemoryServerCache::new());
    let model = slow_writer(&["x", "y", "z"], Duration::from_millis(20));
    let durable = create_durable_agent(Agent::builder("live", model).build())
        .cache(cache.clone())
        .no_cache()
        .build();
    assert!(!durable.context().channel.is_resumable());
    let mut stream = durable.stream("go", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "text-delta").await;

    // Joining a running run: what happens from now on, unindexed, up to finish.
    let live = read_events(durable.observe(&run_id, 0).await.unwrap()).await;
    assert!(live.iter().all(|e| e.index.is_none()), "nothing is logged");
    assert_eq!(live.last().unwrap().kind, EventType::Finish);
    assert_eq!(live.last().unwrap().data["output"]["text"], "xyz");
    let rest = read_chunks(stream).await;
    assert_eq!(finish_of(&rest).output.text.as_deref(), Some("xyz"));
    assert_eq!(cache.list_len(&log_key(&run_id)).await.unwrap(), 0);

    // A finished run has no log to be observed from: refused at once, not a hang.
    within("the run leaves the engine", async {
        while durable.run_status(&run_id).await.unwrap().is_some() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    assert_unknown_run(
        within("observe", durable.observe(&run_id, 0)).await,
        &run_id,
    );
    assert_unknown_run(
        within("observe", durable.observe("nobody", 0)).await,
        "nobody",
    );
}

#[tokio::test]
async fn without_a_cache_generate_and_approvals_still_work() {
    let runs = Counter::default();
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("pay", json!({"amount": 7})),
        ScriptedResponse::text("paid"),
    ]);
    let agent = Agent::builder("payer", model)
        .tool(pay_tool(runs.clone()))
        .build();
    let durable = create_durable_agent(agent).no_cache().build();
    let mut stream = durable.stream("pay", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "tool-call-approval").await;
    within("the run pauses", async {
        while durable.run_status(&run_id).await.unwrap() != Some(RunStatus::Suspended) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    let output = durable
        .approve_tool_call(&run_id, "call_0")
        .await
        .unwrap()
        .output()
        .await
        .unwrap();
    assert_eq!((output.text.as_str(), runs.get()), ("paid", 1));
    let rest = read_chunks(stream).await;
    assert_eq!(finish_of(&rest).output.text.as_deref(), Some("paid"));

    let demo = create_durable_agent(demo_agent("demo")).no_cache().build();
    let generated = demo
        .generate("count to 3", StreamOptions::new())
        .await
        .unwrap();
    assert_eq!(generated.text, "1 2 3");
}
