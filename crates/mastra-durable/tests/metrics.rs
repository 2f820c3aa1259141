//! The process-wide durable-run counters, exactly: this binary has one test, so nothing else
//! moves them while it runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::tool::tool;
use mastra_core::{Agent, StreamOptions, ToolError};
use mastra_durable::engine::metrics;
use mastra_durable::{create_durable_agent, Mastra};
use serde_json::{json, Value};
use tokio::sync::Notify;

async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_follow_runs_events_and_observers() {
    let (gate, entered) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let (held, called) = (gate.clone(), entered.clone());
    let wait = tool("wait", "waits for the test", move |_: Value, _ctx| {
        let (held, called) = (held.clone(), called.clone());
        async move {
            called.notify_one();
            held.notified().await;
            Ok::<_, ToolError>(json!("done"))
        }
    });
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("wait", json!({})),
        ScriptedResponse::text("finished"),
    ]);
    let agent = Agent::builder("waiter", model).tool(wait).build();
    let mastra = Mastra::builder()
        .durable_agent(create_durable_agent(agent))
        .build()
        .unwrap();
    let durable = mastra.durable_agent("waiter").unwrap();
    let zero = mastra.metrics();
    assert_eq!((zero.active_runs, zero.observers), (0, 0), "{zero:?}");

    // While the tool waits, the run is active and its caller's stream is an observer.
    let mut stream = durable.stream("go", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    // Once the tool is called, the model step's events are in the log.
    tokio::time::timeout(Duration::from_secs(5), entered.notified())
        .await
        .expect("the tool is called");
    assert_eq!(metrics::snapshot().active_runs, 1);
    assert_eq!(metrics::snapshot().observers, 1);

    // A second reader joining at offset 1 replays the log from there.
    let logged_before_join = durable.context().channel.log_len(&run_id).await.unwrap();
    let observer = durable.observe(&run_id, 1).await.unwrap();
    let joined = metrics::snapshot();
    assert_eq!(joined.observers, 2);
    assert_eq!(joined.observer_joins, 1);
    assert!(logged_before_join > 1, "{logged_before_join}");
    // The run may append between the two reads of the log; never more than what it wrote.
    let lag = joined.replay_lag_events;
    let logged_now = durable.context().channel.log_len(&run_id).await.unwrap();
    assert!(
        (logged_before_join - 1..=logged_now - 1).contains(&lag),
        "lag {lag}, log {logged_before_join}..{logged_now}"
    );
    drop(observer);
    assert_eq!(metrics::snapshot().observers, 1);

    gate.notify_one();
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
    drop(stream);
    eventually("the run is no longer active", || {
        metrics::snapshot().active_runs == 0
    })
    .await;
    let end = metrics::snapshot();
    assert_eq!(end.observers, 0);
    // Every event of the run was appended by this process, and nothing else was.
    let logged = durable.context().channel.log_len(&run_id).await.unwrap();
    assert_eq!(end.events_appended - zero.events_appended, logged);
    assert_eq!(end.events_published, zero.events_published);
}
