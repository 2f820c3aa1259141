//! A durable run's stream and its log (checklist 13, 14, 16): chunks in order with the run's
//! ids, a run that outlives its stream, observing from any offset, late subscribers, and
//! custom data chunks ahead of `finish`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures::StreamExt;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{Agent, ChunkKind, FinishReason, StreamOptions};
use mastra_durable::agent::event_chunk;
use mastra_durable::{create_durable_agent, DurableError};
use mastra_pubsub::EventType;
use serde_json::json;
use support::*;

#[tokio::test]
async fn stream_returns_the_run_id_and_its_chunks_in_order() {
    let durable = create_durable_agent(demo_agent("counter")).build();
    let stream = durable
        .stream("count to 3", StreamOptions::new().run_id("run-13"))
        .await
        .unwrap();
    assert_eq!(stream.run_id(), "run-13");
    let chunks = read_chunks(stream).await;
    assert_eq!(
        kinds(&chunks),
        [
            "start",
            "step-start",
            "text-start",
            "text-delta",
            "text-delta",
            "text-delta",
            "text-end",
            "step-finish",
            "finish"
        ]
    );
    assert!(chunks.iter().all(|c| c.run_id == "run-13"));
    let ChunkKind::Start(start) = &chunks[0].kind else {
        unreachable!()
    };
    assert_eq!(start.id, "counter");
    assert_eq!(text_of(&chunks), "1 2 3");
    let finish = finish_of(&chunks);
    assert_eq!(finish.step_result.reason, FinishReason::Stop);
    assert_eq!(finish.output.text.as_deref(), Some("1 2 3"));

    // The log holds the same run as envelopes: lifecycle types where the contract says so.
    let log = log_of(&durable, "run-13").await;
    assert_contiguous(&log, 0);
    assert_eq!(
        event_kinds(&log),
        [
            "chunk",
            "step-start",
            "chunk",
            "chunk",
            "chunk",
            "chunk",
            "chunk",
            "step-finish",
            "finish"
        ]
    );
    let from_log: Vec<_> = log.iter().filter_map(|e| event_chunk(e)).collect();
    assert_eq!(from_log, chunks);
}

#[tokio::test]
async fn thread_and_resource_ids_are_echoed_on_the_stream_and_in_the_output() {
    let durable = create_durable_agent(demo_agent("memo")).build();
    let options = || StreamOptions {
        thread_id: Some("thread-7".into()),
        resource_id: Some("user-42".into()),
        ..StreamOptions::new()
    };
    let stream = durable.stream("count to 2", options()).await.unwrap();
    assert_eq!(stream.thread_id(), Some("thread-7"));
    assert_eq!(stream.resource_id(), Some("user-42"));
    let run_id = stream.run_id().to_owned();
    let output = stream.output().await.unwrap();
    assert_eq!(output.run_id, run_id);
    assert_eq!(output.thread_id.as_deref(), Some("thread-7"));
    assert_eq!(output.resource_id.as_deref(), Some("user-42"));

    let generated = durable.generate("count to 2", options()).await.unwrap();
    assert_eq!(generated.text, "1 2");
    assert_eq!(generated.thread_id.as_deref(), Some("thread-7"));
    assert_eq!(generated.resource_id.as_deref(), Some("user-42"));
    assert_ne!(generated.run_id, run_id);

    let plain = create_durable_agent(demo_agent("anon")).build();
    let stream = plain
        .stream("count to 1", StreamOptions::new())
        .await
        .unwrap();
    assert_eq!((stream.thread_id(), stream.resource_id()), (None, None));
}

#[tokio::test]
async fn dropping_the_stream_leaves_the_run_going_and_observe_picks_it_up() {
    let model = slow_writer(
        &["a", "b", "c", "d", "e", "f"],
        std::time::Duration::from_millis(5),
    );
    let durable = create_durable_agent(Agent::builder("writer", model.clone()).build()).build();
    let mut stream = durable.stream("write", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let first = read_until(&mut stream, "step-start").await;
    assert_eq!(kinds(&first), ["start", "step-start"]);
    drop(stream);

    // Resume right after what was read: indices 2.. with nothing missing, up to finish.
    let events = read_events(durable.observe(&run_id, 2).await.unwrap()).await;
    assert_contiguous(&events, 2);
    let last = events.last().unwrap();
    assert_eq!(last.kind, EventType::Finish);
    assert_eq!(
        finish_reason(last),
        FinishReason::Stop,
        "dropping is not aborting"
    );
    assert_eq!(last.data["output"]["text"], "abcdef");
    assert_eq!(terminal_count(&events), 1);
    assert_eq!(model.calls(), 1);
}

#[tokio::test]
async fn observing_from_the_middle_and_late_subscribers() {
    let durable = create_durable_agent(demo_agent("counter")).build();
    let output = durable
        .generate("count to 5", StreamOptions::new())
        .await
        .unwrap();
    let full = log_of(&durable, &output.run_id).await;
    assert_eq!(full.len(), 11, "{:?}", event_kinds(&full));
    assert_contiguous(&full, 0);
    assert_eq!(full.last().unwrap().kind, EventType::Finish);

    for offset in [1, 6, 10] {
        let tail = read_events(durable.observe(&output.run_id, offset).await.unwrap()).await;
        assert_contiguous(&tail, offset);
        let ids: Vec<_> = tail.iter().map(|e| e.id.clone()).collect();
        let expected: Vec<_> = full[offset as usize..]
            .iter()
            .map(|e| e.id.clone())
            .collect();
        assert_eq!(ids, expected, "replayed envelopes keep their ids");
    }
    // Past the end of a finished run: nothing, at once.
    let past = read_events(durable.observe(&output.run_id, 11).await.unwrap()).await;
    assert!(past.is_empty());

    // Two late subscribers each get the whole history, finish included.
    let (a, b) = tokio::join!(
        log_of(&durable, &output.run_id),
        log_of(&durable, &output.run_id)
    );
    assert_eq!(indices(&a), indices(&full));
    assert_eq!(indices(&b), indices(&full));
    assert_eq!(b.last().unwrap().data["output"]["text"], "1 2 3 4 5");
}

#[tokio::test]
async fn observing_an_unknown_run_fails_at_once() {
    let durable = create_durable_agent(demo_agent("counter")).build();
    let observed = within("observe", durable.observe("no-such-run", 0)).await;
    assert_unknown_run(observed, "no-such-run");
    let observed = within("observe", durable.observe("no-such-run", 7)).await;
    assert_unknown_run(observed, "no-such-run");
}

#[tokio::test]
async fn data_chunks_from_a_tool_arrive_before_finish_in_the_stream_and_the_log() {
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("work", json!({"parts": 3})),
        ScriptedResponse::text("all done"),
    ]);
    let agent = Agent::builder("worker", model).tool(work_tool()).build();
    let durable = create_durable_agent(agent).build();
    let stream = durable.stream("work", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let chunks = read_chunks(stream).await;
    let types = kinds(&chunks);
    let data: Vec<usize> = (0..types.len())
        .filter(|&i| types[i] == "data-progress")
        .collect();
    assert_eq!(data.len(), 3, "{types:?}");
    let result = types.iter().position(|t| t == "tool-result").unwrap();
    let finish = types.iter().position(|t| t == "finish").unwrap();
    assert!(data.iter().all(|&i| i < result && i < finish), "{types:?}");
    let parts: Vec<_> = data
        .iter()
        .map(|&i| match &chunks[i].kind {
            ChunkKind::Data(d) => d.data["part"].clone(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(parts, [json!(1), json!(2), json!(3)]);
    assert_eq!(finish_of(&chunks).output.text.as_deref(), Some("all done"));

    // In the log: `chunk` envelopes carrying the data part, indexed before `finish`.
    let log = log_of(&durable, &run_id).await;
    let logged: Vec<_> = log
        .iter()
        .filter(|e| e.data["type"] == "data-progress")
        .collect();
    assert_eq!(logged.len(), 3);
    let finish_index = log.last().unwrap().index.unwrap();
    for event in &logged {
        assert_eq!(event.kind, EventType::Chunk);
        assert_eq!(event.data["runId"], run_id.as_str());
        assert_eq!(event.data["payload"]["type"], "data-progress");
        assert!(event.index.unwrap() < finish_index);
    }
    assert_eq!(
        logged[2].data["payload"]["data"],
        json!({"part": 3, "of": 3})
    );
}

#[tokio::test]
async fn a_stream_also_reads_to_its_end_with_stream_ext() {
    let durable = create_durable_agent(demo_agent("counter")).build();
    let stream = durable
        .stream("count to 4", StreamOptions::new())
        .await
        .unwrap();
    let items: Vec<_> = within("collect", stream.collect::<Vec<_>>()).await;
    let chunks: Vec<_> = items.into_iter().map(Result::unwrap).collect();
    assert_eq!(text_of(&chunks), "1 2 3 4");
    assert_eq!(chunks.last().unwrap().type_name(), "finish");
}

#[tokio::test]
async fn a_run_id_that_is_in_use_is_refused_until_the_run_is_cleaned_up() {
    let durable = create_durable_agent(demo_agent("counter"))
        .cleanup_timeout(std::time::Duration::ZERO)
        .build();
    let first = durable
        .generate("count to 2", StreamOptions::new().run_id("same"))
        .await
        .unwrap();
    assert_eq!(first.text, "1 2");
    let reused = durable
        .stream("count to 5", StreamOptions::new().run_id("same"))
        .await;
    assert!(
        matches!(reused, Err(DurableError::RunState { ref run_id, .. }) if run_id == "same"),
        "a second run under a used id would replay the first: {:?}",
        reused.map(|s| s.run_id().to_owned())
    );
    let log = log_of(&durable, "same").await;
    assert_eq!(log.len(), 8, "the refused run wrote nothing");

    durable.cleanup("same").await.unwrap();
    let second = durable
        .generate("count to 5", StreamOptions::new().run_id("same"))
        .await
        .unwrap();
    assert_eq!(second.text, "1 2 3 4 5");
    let log = log_of(&durable, "same").await;
    assert_contiguous(&log, 0);
    assert_eq!(log.last().unwrap().data["output"]["text"], "1 2 3 4 5");
}
