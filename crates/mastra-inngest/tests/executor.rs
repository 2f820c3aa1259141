//! Scenario tests: a fake Inngest executor drives our endpoint over real HTTP, following the
//! server's rules (inngest-protocol.md §5 as corrected by the recorded traces).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mastra_inngest::{serve, Config, Event, Inngest, InngestFunction, StepError};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::executor::{Executor, FakeInngest, Run, RunEnd};
use support::trace_app::APP_ID;
use support::{dev, ops, trigger};

#[tokio::test]
async fn an_agent_loop_runs_to_completion_one_step_per_request() {
    let (_, mut executor) = dev().await;
    let mut run = Run::new("traces-app-agent-loop", trigger("agent-loop"), 3);
    let end = executor.run_to_end(&mut run).await;
    let RunEnd::Completed(output) = end else {
        panic!("{end:?}")
    };
    assert_eq!(output["iterations"], 3);
    assert_eq!(output["transcript"].as_array().unwrap().len(), 6);
    assert_eq!(
        ops(&executor),
        ["StepRun"; 6]
            .iter()
            .map(|s| s.to_string())
            .chain(["200".into()])
            .collect::<Vec<_>>()
    );
    // model, tool, model:1, tool:1, tool:2, model:2 in completion order.
    let hashes: Vec<_> = ["model", "tool", "model:1", "tool:1", "tool:2", "model:2"]
        .iter()
        .map(|id| mastra_inngest::hash_step_id(id))
        .collect();
    assert_eq!(run.stack, hashes);
}

#[tokio::test]
async fn a_step_that_fails_twice_then_succeeds() {
    let (_, mut executor) = dev().await;
    let mut run = Run::new("traces-app-flaky-step", trigger("flaky-step"), 4);
    let end = executor.run_to_end(&mut run).await;
    assert_eq!(
        end,
        RunEnd::Completed(json!({"r": {"ok": true, "succeededOnAttempt": 2}}))
    );
    assert_eq!(ops(&executor), ["StepError", "StepError", "StepRun", "200"]);
    let attempts: Vec<_> = executor.log.iter().map(|x| x.attempt).collect();
    assert_eq!(
        attempts,
        [0, 1, 2, 0],
        "attempt resets after the step completes"
    );
    let no_retry: Vec<_> = executor.log.iter().map(|x| x.no_retry.as_deref()).collect();
    assert_eq!(no_retry, [Some("false"), Some("false"), None, None]);
    assert!(
        executor.log.iter().all(|x| x.step_id == "step"),
        "retries are discovery requests"
    );
}

#[tokio::test]
async fn a_non_retriable_failure_ends_the_run_without_retries() {
    let (_, mut executor) = dev().await;
    let mut run = Run::new("traces-app-non-retriable", trigger("non-retriable"), 3);
    let end = executor.run_to_end(&mut run).await;
    let RunEnd::Failed { status, body } = end else {
        panic!("{end:?}")
    };
    assert_eq!(status, 400);
    assert_eq!(body["name"], "NonRetriableError");
    assert_eq!(ops(&executor), ["StepFailed", "400"]);
    assert!(executor.log.iter().all(|x| x.attempt == 0));
    assert_eq!(executor.log[0].no_retry.as_deref(), Some("true"));
    assert_eq!(executor.log[1].no_retry.as_deref(), Some("true"));
}

#[tokio::test]
async fn a_step_failing_on_its_last_attempt_fails_the_run() {
    let (_, mut executor) = dev().await;
    let mut run = Run::new(
        "traces-app-uncaught-step-failure",
        trigger("uncaught-step-failure"),
        2,
    );
    let end = executor.run_to_end(&mut run).await;
    assert!(matches!(end, RunEnd::Failed { status: 400, .. }), "{end:?}");
    assert_eq!(ops(&executor), ["StepError", "StepFailed", "400"]);
}

#[tokio::test]
async fn parallel_steps_are_planned_then_targeted() {
    let (_, mut executor) = dev().await;
    let mut run = Run::new("traces-app-parallel-steps", trigger("parallel-steps"), 3);
    let end = executor.run_to_end(&mut run).await;
    assert_eq!(
        end,
        RunEnd::Completed(json!({"x": {"v": "a"}, "y": {"v": "b"}, "z": {"v": "ab"}}))
    );
    assert_eq!(
        ops(&executor),
        [
            "StepPlanned+StepPlanned",
            "StepRun",
            "StepRun",
            "StepRun",
            "200"
        ]
    );
    let targeted: Vec<_> = executor
        .log
        .iter()
        .map(|x| (x.step_id != "step", x.disable_immediate_execution))
        .collect();
    assert_eq!(
        targeted,
        [
            (false, false),
            (true, true),
            (true, true),
            (false, false),
            (false, false)
        ]
    );
}

/// A function counting how often each step body really ran.
fn counted(counts: Arc<[AtomicUsize; 3]>) -> InngestFunction {
    InngestFunction::new("counted", "test/counted", move |_, step| {
        let counts = counts.clone();
        async move {
            let mut total = 0;
            for i in 0..3 {
                let counts = counts.clone();
                let n: u64 = step
                    .run("work", async move {
                        counts[i].fetch_add(1, Ordering::SeqCst);
                        Ok(i as u64 + 1)
                    })
                    .await?;
                total += n;
            }
            Ok(json!({"total": total}))
        }
    })
}

#[tokio::test]
async fn a_worker_restart_between_steps_replays_memoized_state() {
    let counts: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());
    let fake = FakeInngest::default();
    let inngest = Inngest::new(Config::dev(APP_ID, "http://127.0.0.1:9"));
    let (first, first_server) =
        support::spawn(serve(&inngest, vec![counted(counts.clone())])).await;
    let mut executor = Executor::new(format!("{first}/api/inngest"), fake);
    let mut run = Run::new(
        "traces-app-counted",
        Event::new("test/counted", json!({})),
        3,
    );
    assert!(matches!(
        executor.call(&mut run).await,
        support::executor::Progress::Continue
    ));
    // The worker dies; a new process (new endpoint, new function instances) takes over.
    first_server.abort();
    let _ = first_server.await;
    let inngest = Inngest::new(Config::dev(APP_ID, "http://127.0.0.1:9"));
    let (second, _) = support::spawn(serve(&inngest, vec![counted(counts.clone())])).await;
    executor.serve_url = format!("{second}/api/inngest");
    let end = executor.run_to_end(&mut run).await;
    assert_eq!(end, RunEnd::Completed(json!({"total": 6})));
    let ran: Vec<_> = counts.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    assert_eq!(
        ran,
        [1, 1, 1],
        "every step body ran exactly once across both workers"
    );
}

#[tokio::test]
async fn wait_for_event_round_trip_through_the_event_api() {
    let (inngest, mut executor) = dev().await;
    let mut run = Run::new("traces-app-sleep-and-wait", trigger("sleep-and-wait"), 3);
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let approve = Event::new("test/approve", json!({"runId": "rid-1", "by": "tester"}));
        inngest.send(&[approve]).await.unwrap()
    });
    let end = executor.run_to_end(&mut run).await;
    assert_eq!(sender.await.unwrap(), ["evt-0"]);
    let RunEnd::Completed(output) = end else {
        panic!("{end:?}")
    };
    assert_eq!(output["fin"], json!({"approved": true, "by": "tester"}));
    assert_eq!(output["approval"]["name"], "test/approve");
    assert_eq!(ops(&executor), ["Sleep", "WaitForEvent", "StepRun", "200"]);
    let wait = &executor.log[1].body[0];
    assert_eq!(wait["opts"]["event"], "test/approve");
    assert_eq!(wait["opts"]["timeout"], "30s");
}

#[tokio::test]
async fn wait_for_event_timeout_gives_none() {
    let (_, mut executor) = dev().await;
    executor.wait_timeout = Duration::from_millis(20);
    let mut run = Run::new("traces-app-sleep-and-wait", trigger("sleep-and-wait"), 3);
    let RunEnd::Completed(output) = executor.run_to_end(&mut run).await else {
        panic!()
    };
    assert_eq!(
        output,
        json!({"approval": null, "fin": {"approved": false, "by": null}})
    );
}

#[tokio::test]
async fn unknown_functions_and_steps() {
    let (_, executor) = dev().await;
    let http = reqwest::Client::new();
    let body = json!({"event": {"name": "x", "data": {}}, "steps": {}, "ctx": {"attempt": 0}});
    let url = |q: &str| format!("{}?{q}", executor.serve_url);
    let response = http
        .post(url("fnId=nope&stepId=step"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let response = http
        .post(url("fnId=traces-app-three-steps&stepId=0000"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    let ops: Value = response.json().await.unwrap();
    assert_eq!(
        ops,
        json!([{"id": "0000", "op": "StepNotFound", "opts": {}}])
    );
}

#[tokio::test]
async fn a_function_error_is_retried_unless_non_retriable() {
    let failing = |non_retriable: bool| {
        InngestFunction::new(
            if non_retriable { "fatal" } else { "flaky" },
            "test/f",
            move |_, _| async move {
                Err::<Value, _>(if non_retriable {
                    StepError::non_retriable("no")
                } else {
                    StepError::new("again")
                })
            },
        )
    };
    let inngest = Inngest::new(Config::dev(APP_ID, "http://127.0.0.1:9"));
    let (origin, _) = support::spawn(serve(&inngest, vec![failing(false), failing(true)])).await;
    let mut executor = Executor::new(format!("{origin}/api/inngest"), FakeInngest::default());
    let mut run = Run::new("traces-app-flaky", Event::new("test/f", json!({})), 3);
    assert!(matches!(
        executor.run_to_end(&mut run).await,
        RunEnd::Failed { status: 500, .. }
    ));
    assert_eq!(executor.log.len(), 3, "retried until attempts ran out");
    assert!(executor
        .log
        .iter()
        .all(|x| x.no_retry.as_deref() == Some("false")));
    let mut run = Run::new("traces-app-fatal", Event::new("test/f", json!({})), 3);
    assert!(matches!(
        executor.run_to_end(&mut run).await,
        RunEnd::Failed { status: 400, .. }
    ));
    assert_eq!(
        executor.log.last().unwrap().no_retry.as_deref(),
        Some("true")
    );
}
