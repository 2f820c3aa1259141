//! `create_inngest_agent` end to end with the fake executor: `stream()` sends the trigger
//! event, the executor calls our endpoint step by step, and chunks reach the durable
//! stream through the run's channel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures::StreamExt;
use mastra_core::demo::calculator_tool;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{Agent, StreamOptions};
use mastra_durable::agent::RunChannel;
use mastra_durable::{agent_stream_topic, DurableAgent};
use mastra_inngest::agent::{RESUME_EVENT, RUN_EVENT};
use mastra_inngest::{create_inngest_agent, serve, Config, Event, Inngest, InngestEngine};
use mastra_pubsub::EventType;
use serde_json::{json, Value};
use std::time::Duration;
use support::executor::{Executor, FakeInngest, Run, RunEnd};

const PROMPT: &str = "what is 2 * (3 + 4)? a long prompt that must not be repeated in step outputs";

struct Setup {
    durable: DurableAgent,
    executor: Executor,
    fake: FakeInngest,
}

async fn setup() -> Setup {
    let fake = FakeInngest::default();
    let (api, _) = support::spawn(fake.router()).await;
    let inngest = Inngest::new(Config::dev("mastra-app", api));
    let engine = InngestEngine::new(inngest.clone());
    let model = ScriptedModel::new(vec![
        ScriptedResponse::new().tool_call("calculator", json!({"expression": "2 * (3 + 4)"})),
        ScriptedResponse::text("It is 14."),
    ]);
    let agent = Agent::builder("calc", model)
        .tools([calculator_tool()])
        .build();
    let durable = create_inngest_agent(agent, &engine).build();
    engine.register(&durable);
    let (origin, _) = support::spawn(serve(&inngest, vec![engine.function()])).await;
    let executor = Executor::new(format!("{origin}/api/inngest"), fake.clone());
    Setup {
        durable,
        executor,
        fake,
    }
}

fn trigger(fake: &FakeInngest, run_id: &str) -> Event {
    let event = fake
        .events()
        .into_iter()
        .find(|e| e.name == RUN_EVENT)
        .unwrap();
    assert_eq!(event.data["runId"], run_id);
    assert_eq!(
        event.id.as_deref(),
        Some(format!("mastra-run-{run_id}").as_str())
    );
    event
}

/// The server-side run of the agent function that `stream()`'s trigger event started
/// (three attempts per step).
fn agent_run(fake: &FakeInngest, run_id: &str) -> Run {
    Run::new("mastra-app-mastra-durable-agent", trigger(fake, run_id), 3)
}

fn step_outputs(executor: &Executor) -> Vec<Value> {
    executor
        .log
        .iter()
        .filter_map(|x| x.body.as_array())
        .flatten()
        .filter(|op| op["op"] == "StepRun")
        .map(|op| op["data"].clone())
        .collect()
}

#[tokio::test]
async fn an_agent_run_with_a_tool_call_runs_as_inngest_steps() {
    let Setup {
        durable,
        mut executor,
        fake,
    } = setup().await;
    let stream = durable.stream(PROMPT, StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut run = agent_run(&fake, &run_id);
    let end = executor.run_to_end(&mut run).await;
    assert_eq!(
        end,
        RunEnd::Completed(json!({"runId": run_id, "text": "It is 14."}))
    );
    assert_eq!(stream.output().await.unwrap().text, "It is 14.");

    // One StepRun per executor step (model call, its tool call, the second model call,
    // the step that records its answer and finishes), then 200.
    let outputs = step_outputs(&executor);
    assert_eq!(outputs.len(), 4, "{:?}", executor.log);
    assert_eq!(executor.log.len(), 5);
    for output in &outputs {
        // Deltas, not the history: the prompt travels only in the trigger event.
        assert!(
            !output.to_string().contains("must not be repeated"),
            "{output}"
        );
    }
    assert_eq!(outputs.last().unwrap()["outcome"], "done");

    let log: Vec<_> = durable.observe(&run_id, 0).await.unwrap().collect().await;
    let kinds: Vec<_> = log
        .iter()
        .map(|e| e.as_ref().unwrap().kind.clone())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == EventType::Finish).count(), 1);
    assert!(
        !kinds.contains(&EventType::OwnershipClaimed),
        "no retried step"
    );
}

#[tokio::test]
async fn tool_approval_suspends_with_wait_for_event() {
    let Setup {
        durable,
        mut executor,
        fake,
    } = setup().await;
    let options = StreamOptions {
        require_tool_approval: true,
        ..StreamOptions::new()
    };
    let stream = durable.stream(PROMPT, options).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut run = agent_run(&fake, &run_id);
    let driver = tokio::spawn(async move {
        let end = executor.run_to_end(&mut run).await;
        (end, executor)
    });
    // Wait until the run is paused and stored, then answer it.
    let mut events = durable.observe(&run_id, 0).await.unwrap();
    while let Some(event) = events.next().await {
        if event.unwrap().kind == EventType::Suspended {
            break;
        }
    }
    assert_eq!(
        durable.run_status(&run_id).await.unwrap(),
        Some(mastra_durable::RunStatus::Suspended)
    );
    let resumed = durable.approve_tool_call(&run_id, "call_0").await.unwrap();
    let (end, executor) = driver.await.unwrap();
    assert_eq!(
        end,
        RunEnd::Completed(json!({"runId": run_id, "text": "It is 14."}))
    );
    assert_eq!(resumed.output().await.unwrap().text, "It is 14.");
    let ops: Vec<_> = executor
        .log
        .iter()
        .filter_map(|x| x.body.as_array())
        .flatten()
        .map(|op| op["op"].as_str().unwrap().to_owned())
        .collect();
    assert!(ops.contains(&"WaitForEvent".to_owned()), "{ops:?}");
    let resume = fake
        .events()
        .into_iter()
        .find(|e| e.name == RESUME_EVENT)
        .unwrap();
    assert_eq!(resume.data["runId"], run_id);
    drop(stream);
}

#[tokio::test]
async fn aborting_a_paused_run_ends_its_wait_with_one_finish() {
    let Setup {
        durable,
        mut executor,
        fake,
    } = setup().await;
    executor.wait_timeout = Duration::from_secs(5);
    let options = StreamOptions {
        require_tool_approval: true,
        ..StreamOptions::new()
    };
    let stream = durable.stream(PROMPT, options).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut run = agent_run(&fake, &run_id);
    let driver = tokio::spawn(async move { executor.run_to_end(&mut run).await });
    let mut events = durable.observe(&run_id, 0).await.unwrap();
    while let Some(event) = events.next().await {
        if event.unwrap().kind == EventType::Suspended {
            break;
        }
    }
    durable.abort_run(&run_id).await.unwrap();
    // The wait ends with the abort answer and the function returns (no cancelOn).
    let end = driver.await.unwrap();
    assert!(
        matches!(&end, RunEnd::Completed(out) if out["aborted"] == true),
        "{end:?}"
    );
    let answer = fake
        .events()
        .into_iter()
        .find(|e| e.name == RESUME_EVENT)
        .unwrap();
    assert_eq!(answer.data["runId"], run_id);
    assert_eq!(answer.data["abort"], true);
    let output = stream.output().await.unwrap();
    assert_eq!(output.finish_reason, mastra_core::FinishReason::Abort);
    assert_eq!(terminal_count(&durable, &run_id).await, 1);
}

async fn terminal_count(durable: &DurableAgent, run_id: &str) -> usize {
    let log: Vec<_> = durable.observe(run_id, 0).await.unwrap().collect().await;
    log.iter()
        .filter(|e| e.as_ref().unwrap().is_terminal())
        .count()
}

#[tokio::test]
async fn aborting_between_steps_ends_the_stream_once() {
    let Setup {
        durable,
        mut executor,
        fake,
    } = setup().await;
    let stream = durable.stream(PROMPT, StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut run = agent_run(&fake, &run_id);
    // Call until the first step (the model's tool call) is written; then no step executes
    // anywhere: Inngest has not called the next one.
    let history = |durable: &DurableAgent| {
        let RunChannel::Logged(caching) = &durable.context().channel else {
            panic!("the agent logs its runs");
        };
        let (caching, topic) = (caching.clone(), agent_stream_topic(&run_id));
        async move { caching.history(&topic, 0).await.unwrap() }
    };
    let mut calls = 0;
    while history(&durable).await.len() < 3 {
        executor.call(&mut run).await;
        calls += 1;
        assert!(calls < 10, "the first step never ran");
    }
    let before = history(&durable).await;
    assert!(before.iter().any(|e| e.data["type"] == "tool-call"));
    assert!(before.iter().all(|e| !e.is_terminal()));
    durable.abort_run(&run_id).await.unwrap();
    // The next step finds the recorded abort and writes the run's one aborted finish.
    let end = executor.run_to_end(&mut run).await;
    assert!(matches!(end, RunEnd::Completed(_)), "{end:?}");
    let output = stream.output().await.unwrap();
    assert_eq!(output.finish_reason, mastra_core::FinishReason::Abort);
    assert_eq!(terminal_count(&durable, &run_id).await, 1);
    // Nothing past the abort ran: the model's answer to the tool result never streamed.
    let log: Vec<_> = durable.observe(&run_id, 0).await.unwrap().collect().await;
    let text: String = log
        .iter()
        .filter_map(|e| e.as_ref().unwrap().data.pointer("/payload/text"))
        .filter_map(Value::as_str)
        .collect();
    assert!(!text.contains("It is 14."), "{text}");
}

/// Two processes sharing the run channel (pubsub and cache), each with its own engine,
/// agent and endpoint.
async fn two_workers(model: ScriptedModel) -> (DurableAgent, String, String, FakeInngest) {
    let fake = FakeInngest::default();
    let (api, _) = support::spawn(fake.router()).await;
    let pubsub: std::sync::Arc<dyn mastra_pubsub::PubSub> =
        std::sync::Arc::new(mastra_pubsub::EventEmitterPubSub::new());
    let cache: std::sync::Arc<dyn mastra_cache::ServerCache> =
        std::sync::Arc::new(mastra_cache::InMemoryServerCache::new());
    let mut urls = Vec::new();
    let mut agents = Vec::new();
    for _ in 0..2 {
        let inngest = Inngest::new(Config::dev("mastra-app", &api));
        let engine = InngestEngine::new(inngest.clone());
        let agent = Agent::builder("calc", model.clone())
            .tools([calculator_tool()])
            .build();
        let durable = create_inngest_agent(agent, &engine)
            .pubsub(pubsub.clone())
            .cache(cache.clone())
            .build();
        engine.register(&durable);
        let (origin, _) = support::spawn(serve(&inngest, vec![engine.function()])).await;
        urls.push(format!("{origin}/api/inngest"));
        agents.push(durable);
    }
    let second = urls.pop().unwrap();
    (agents.remove(0), urls.remove(0), second, fake)
}

#[tokio::test]
async fn another_worker_continues_the_run_from_memoized_deltas() {
    let model = ScriptedModel::new(vec![
        ScriptedResponse::new().tool_call("calculator", json!({"expression": "2 * (3 + 4)"})),
        ScriptedResponse::text("It is 14."),
    ]);
    let (durable, first, second, fake) = two_workers(model.clone()).await;
    let stream = durable.stream(PROMPT, StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut executor = Executor::new(first, fake.clone());
    let mut run = agent_run(&fake, &run_id);
    // The first worker takes the model step and the tool step, then is gone.
    for _ in 0..2 {
        executor.call(&mut run).await;
    }
    executor.serve_url = second;
    let end = executor.run_to_end(&mut run).await;
    assert_eq!(
        end,
        RunEnd::Completed(json!({"runId": run_id, "text": "It is 14."}))
    );
    assert_eq!(model.calls(), 2, "memoized steps are not taken again");
    assert_eq!(stream.output().await.unwrap().text, "It is 14.");
}

#[tokio::test]
async fn a_retried_step_voids_what_its_lost_attempt_wrote() {
    let model = ScriptedModel::new(vec![
        ScriptedResponse::text("first try"),
        ScriptedResponse::text("second try"),
    ]);
    let (durable, url, _, fake) = two_workers(model.clone()).await;
    let stream = durable.stream(PROMPT, StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut executor = Executor::new(url, fake.clone());
    let mut run = agent_run(&fake, &run_id);
    // The step runs and writes its chunks, but its answer never reaches the server,
    // which calls again with the next attempt.
    let mut lost = run.clone();
    executor.call(&mut lost).await;
    run.attempt += 1;
    let end = executor.run_to_end(&mut run).await;
    assert_eq!(
        end,
        RunEnd::Completed(json!({"runId": run_id, "text": "second try"}))
    );
    assert_eq!(model.calls(), 2);

    let log: Vec<_> = durable.observe(&run_id, 0).await.unwrap().collect().await;
    let log: Vec<_> = log.into_iter().map(Result::unwrap).collect();
    let claim = log
        .iter()
        .find(|e| e.kind == EventType::OwnershipClaimed)
        .unwrap();
    assert_eq!(
        claim.data["voidFrom"], 1,
        "everything after `start` was the lost attempt's"
    );
    assert_eq!(stream.output().await.unwrap().text, "second try");
}

#[tokio::test]
async fn aborting_during_a_step_ends_the_stream_once() {
    let model = ScriptedModel::new(vec![ScriptedResponse::new()
        .text_deltas(["slow ", "answer"])
        .delay(Duration::from_millis(300))]);
    let (durable, url, _, fake) = two_workers(model).await;
    let stream = durable.stream(PROMPT, StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut executor = Executor::new(url, fake.clone());
    let mut run = agent_run(&fake, &run_id);
    let driver = tokio::spawn(async move { executor.run_to_end(&mut run).await });
    // Once the model step has written past `start`, it is executing (in this process,
    // slowed by the model's delay): the abort reaches it directly.
    let mut events = durable.observe(&run_id, 1).await.unwrap();
    events.next().await.unwrap().unwrap();
    durable.abort_run(&run_id).await.unwrap();
    let output = stream.output().await.unwrap();
    assert_eq!(output.finish_reason, mastra_core::FinishReason::Abort);
    let end = driver.await.unwrap();
    assert!(matches!(end, RunEnd::Completed(_)), "{end:?}");
    assert_eq!(terminal_count(&durable, &run_id).await, 1);
}
