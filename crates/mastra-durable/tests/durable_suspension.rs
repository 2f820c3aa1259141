//! Tool suspension on durable runs (checklist 21): a tool suspends with a payload, `resume`
//! hands it the data, the resumed stream starts at the log's length so nothing is sent twice,
//! and resuming needs neither the original stream nor its task (nor even this instance).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mastra_cache::{InMemoryServerCache, ServerCache};
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{Agent, AgentError, ChunkKind, StreamOptions};
use mastra_durable::agent::event_chunk;
use mastra_durable::{
    create_durable_agent, DurableAgent, DurableError, InMemoryRunStore, RunStatus, RunStore,
};
use mastra_pubsub::{EventEmitterPubSub, PubSub};
use serde_json::{json, Value};
use support::*;

type Seen = Arc<Mutex<Vec<Option<Value>>>>;

fn asker() -> (Agent, Seen) {
    let seen = Seen::default();
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("ask", json!({"question": "Which colour?"})),
        ScriptedResponse::text("Blue it is."),
    ]);
    let agent = Agent::builder("asker", model)
        .tool(ask_tool(seen.clone()))
        .build();
    (agent, seen)
}

/// Starts a run, waits until it is paused, and returns its id and the log length then.
async fn start_paused(durable: &DurableAgent) -> (String, u64) {
    let mut stream = durable
        .stream("paint it", StreamOptions::new())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    let read = read_until(&mut stream, "tool-call-suspended").await;
    let ChunkKind::ToolCallSuspended(payload) = &read.last().unwrap().kind else {
        unreachable!()
    };
    assert_eq!(payload.tool_call_id, "call_0");
    assert_eq!(
        payload.suspend_payload,
        json!({"question": "Which colour?"})
    );
    assert_eq!(payload.args, json!({"question": "Which colour?"}));
    drop(stream);

    let mut events = durable.observe(&run_id, 0).await.unwrap();
    let until = events_until(&mut events, "suspended").await;
    assert_eq!(
        until.last().unwrap().data,
        json!({
            "toolCallId": "call_0",
            "toolName": "ask",
            "args": {"question": "Which colour?"},
            "suspendPayload": {"question": "Which colour?"},
            "type": "suspension"
        })
    );
    wait_status(durable, &run_id, Some(RunStatus::Suspended)).await;
    let len = until.last().unwrap().index.unwrap() + 1;
    // Paused: nothing more is written.
    let more = tokio::time::timeout(
        Duration::from_millis(50),
        futures::StreamExt::next(&mut events),
    )
    .await;
    assert!(more.is_err(), "the paused run wrote {more:?}");
    (run_id, len)
}

async fn wait_status(durable: &DurableAgent, run_id: &str, wanted: Option<RunStatus>) {
    within("the run's status", async {
        while durable.run_status(run_id).await.unwrap() != wanted {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn resume_hands_the_data_to_the_tool_and_replays_nothing() {
    let (agent, seen) = asker();
    let durable = create_durable_agent(agent).build();
    let (run_id, paused_len) = start_paused(&durable).await;

    let resumed = durable
        .resume(&run_id, json!({"colour": "blue"}), None)
        .await
        .unwrap();
    let chunks = read_chunks(resumed).await;
    assert_eq!(
        *seen.lock().unwrap(),
        [None, Some(json!({"colour": "blue"}))]
    );
    let ChunkKind::ToolResult(result) = &chunks[0].kind else {
        panic!("{:?}", kinds(&chunks))
    };
    assert_eq!(result.result, json!({"answer": {"colour": "blue"}}));
    assert_eq!(
        finish_of(&chunks).output.text.as_deref(),
        Some("Blue it is.")
    );

    // The resumed stream is exactly the log from its length at resume time.
    let log = log_of(&durable, &run_id).await;
    assert_contiguous(&log, 0);
    let tail: Vec<_> = log[paused_len as usize..]
        .iter()
        .filter_map(|e| event_chunk(e))
        .collect();
    assert_eq!(tail, chunks);
    assert_eq!(log[paused_len as usize].data["type"], "tool-result");
    for kind in ["start", "tool-call", "tool-call-suspended"] {
        assert!(
            !kinds(&chunks).contains(&kind.to_owned()),
            "{kind} sent twice"
        );
    }
    assert_eq!(terminal_count(&log), 1);
}

#[tokio::test]
async fn another_instance_sharing_the_store_and_transport_resumes_the_run() {
    let pubsub: Arc<dyn PubSub> = Arc::new(EventEmitterPubSub::new());
    let cache: Arc<dyn ServerCache> = Arc::new(InMemoryServerCache::new());
    let store: Arc<dyn RunStore> = Arc::new(InMemoryRunStore::new());
    let (agent, seen) = asker();
    let build = || {
        create_durable_agent(agent.clone())
            .pubsub(pubsub.clone())
            .cache(cache.clone())
            .run_store(store.clone())
            .build()
    };
    let first = build();
    let (run_id, paused_len) = start_paused(&first).await;
    let mut watcher = first.observe(&run_id, paused_len).await.unwrap();
    drop(first);

    let second = build();
    let chunks = read_chunks(
        second
            .resume(&run_id, json!("green"), Some("call_0"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        finish_of(&chunks).output.text.as_deref(),
        Some("Blue it is.")
    );
    assert_eq!(seen.lock().unwrap().last().unwrap(), &Some(json!("green")));
    // A reader that was waiting on the paused run sees the continuation from the log's end.
    let continued = events_until(&mut watcher, "finish").await;
    assert_contiguous(&continued, paused_len);
}

#[tokio::test]
async fn resuming_a_run_that_is_not_paused_is_refused() {
    let model = slow_writer(&["a", "b", "c"], Duration::from_millis(20));
    let durable = create_durable_agent(Agent::builder("w", model).build()).build();
    let not_paused = |r: Result<_, DurableError>| matches!(r, Err(DurableError::RunState { .. }));

    let stream = durable.stream("go", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    assert!(
        not_paused(durable.resume(&run_id, json!(1), None).await),
        "running"
    );
    read_chunks(stream).await;
    assert!(
        not_paused(durable.resume(&run_id, json!(1), None).await),
        "finished"
    );
    assert!(
        not_paused(durable.resume("nobody", json!(1), None).await),
        "unknown"
    );
    assert_eq!(
        log_of(&durable, &run_id).await.last().unwrap().data["output"]["text"],
        "abc"
    );
}

#[tokio::test]
async fn a_wrong_answer_leaves_the_run_resumable() {
    let (agent, seen) = asker();
    let durable = create_durable_agent(agent).build();
    let (run_id, paused_len) = start_paused(&durable).await;

    let wrong_id = durable.resume(&run_id, json!("red"), Some("call_9")).await;
    assert!(
        matches!(
            wrong_id,
            Err(DurableError::Agent(AgentError::InvalidResume(_)))
        ),
        "{:?}",
        wrong_id.map(|s| s.run_id().to_owned())
    );
    // A suspended call is resumed, not approved.
    assert!(durable.approve_tool_call(&run_id, "call_0").await.is_err());
    assert_eq!(
        durable.run_status(&run_id).await.unwrap(),
        Some(RunStatus::Suspended)
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "the tool did not run again");
    assert_eq!(
        durable.context().channel.log_len(&run_id).await.unwrap(),
        paused_len
    );

    let output = durable
        .resume(&run_id, json!("red"), Some("call_0"))
        .await
        .unwrap()
        .output()
        .await
        .unwrap();
    assert_eq!(output.tool_results[0].result, json!({"answer": "red"}));
    assert_eq!(*seen.lock().unwrap(), [None, Some(json!("red"))]);
}

#[tokio::test]
async fn resuming_as_soon_as_the_suspended_chunk_arrives_finds_the_paused_run() {
    let (agent, seen) = asker();
    let store = Arc::new(SlowSaveStore::new(Duration::from_millis(30)));
    let durable = create_durable_agent(agent).run_store(store).build();
    let mut stream = durable
        .stream("paint it", StreamOptions::new())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    read_until(&mut stream, "tool-call-suspended").await;
    let output = durable
        .resume(&run_id, json!("teal"), None)
        .await
        .unwrap()
        .output()
        .await
        .unwrap();
    assert_eq!(output.tool_results[0].result, json!({"answer": "teal"}));
    assert_eq!(*seen.lock().unwrap(), [None, Some(json!("teal"))]);
}
