//! The functions of the recorded traces (`fixtures/traces/*.json`, source `app.mjs` of the
//! JS SDK app), written with our SDK.

use mastra_inngest::{InngestFunction, StepError, WaitForEvent};
use serde_json::{json, Value};

pub const APP_ID: &str = "traces-app";

pub fn trace_functions() -> Vec<InngestFunction> {
    vec![
        three_steps(),
        flaky_step(),
        non_retriable(),
        uncaught(),
        sleep_and_wait(),
        parallel(),
        agent_loop(),
    ]
}

fn three_steps() -> InngestFunction {
    InngestFunction::new(
        "three-steps",
        "traces/three-steps",
        |input, step| async move {
            let a: Value = step
                .run("llm-call", async {
                    Ok(json!({"text": "first answer", "turn": 1}))
                })
                .await?;
            let b: Value = step
                .run("llm-call", async {
                    Ok(json!({"text": "second answer", "turn": 2}))
                })
                .await?;
            let joined = format!(
                "{} + {}",
                a["text"].as_str().unwrap_or(""),
                b["text"].as_str().unwrap_or("")
            );
            let c: Value = step
                .run("finalize", async move { Ok(json!({"joined": joined})) })
                .await?;
            Ok(json!({"a": a, "b": b, "c": c, "input": input.event.data}))
        },
    )
    .retries(2)
}

fn flaky_step() -> InngestFunction {
    InngestFunction::new(
        "flaky-step",
        "traces/flaky-step",
        |input, step| async move {
            let attempt = input.attempt;
            let r: Value = step
                .run("flaky", async move {
                    if attempt < 2 {
                        return Err(StepError::new(format!(
                            "flaky failure on attempt {attempt}"
                        )));
                    }
                    Ok(json!({"ok": true, "succeededOnAttempt": attempt}))
                })
                .await?;
            Ok(json!({"r": r}))
        },
    )
    .retries(3)
}

fn non_retriable() -> InngestFunction {
    InngestFunction::new(
        "non-retriable",
        "traces/non-retriable",
        |_, step| async move {
            step.run("fatal", async {
                Err::<(), _>(StepError::non_retriable("this step must not be retried"))
            })
            .await?;
            Ok(json!({"unreachable": true}))
        },
    )
    .retries(2)
}

fn uncaught() -> InngestFunction {
    InngestFunction::new(
        "uncaught-step-failure",
        "traces/uncaught-step-failure",
        |_, step| async move {
            step.run("always-fails", async {
                Err::<(), _>(StepError::new("always fails"))
            })
            .await?;
            Ok(json!({"unreachable": true}))
        },
    )
    .retries(1)
}

fn sleep_and_wait() -> InngestFunction {
    InngestFunction::new(
        "sleep-and-wait",
        "traces/sleep-and-wait",
        |_, step| async move {
            step.sleep("nap", "1s").await?;
            let wait = WaitForEvent {
                event: "test/approve".into(),
                timeout: "30s".into(),
                condition: Some("async.data.runId == event.data.runId".into()),
            };
            let approval = step.wait_for_event("approval", wait).await?;
            let by = approval
                .as_ref()
                .and_then(|e| e.data.get("by").cloned())
                .unwrap_or(Value::Null);
            let approved = approval.is_some();
            let fin: Value = step
                .run("after-approval", async move {
                    Ok(json!({"approved": approved, "by": by}))
                })
                .await?;
            Ok(json!({"approval": approval, "fin": fin}))
        },
    )
    .retries(2)
}

fn parallel() -> InngestFunction {
    InngestFunction::new(
        "parallel-steps",
        "traces/parallel-steps",
        |_, step| async move {
            let (x, y) = futures::join!(
                step.run("par-a", async { Ok(json!({"v": "a"})) }),
                step.run("par-b", async { Ok(json!({"v": "b"})) }),
            );
            let (x, y): (Value, Value) = (x?, y?);
            let v = format!(
                "{}{}",
                x["v"].as_str().unwrap_or(""),
                y["v"].as_str().unwrap_or("")
            );
            let z: Value = step
                .run("after-par", async move { Ok(json!({"v": v})) })
                .await?;
            Ok(json!({"x": x, "y": y, "z": z}))
        },
    )
    .retries(2)
}

fn agent_loop() -> InngestFunction {
    InngestFunction::new("agent-loop", "traces/agent-loop", |_, step| async move {
        let plan = [
            json!([{"name": "search", "args": {"q": "weather"}}]),
            json!([{"name": "calc", "args": {"expr": "1+1"}}, {"name": "search", "args": {"q": "news"}}]),
            json!([]),
        ];
        let mut transcript = Vec::new();
        for (i, calls) in plan.into_iter().enumerate() {
            let m: Value = step
                .run("model", async move { Ok(json!({"iteration": i, "toolCalls": calls})) })
                .await?;
            let calls = m["toolCalls"].as_array().cloned().unwrap_or_default();
            transcript.push(json!({"model": m}));
            for call in calls {
                let name = call["name"].as_str().unwrap_or("").to_owned();
                let t: Value = step
                    .run("tool", async move {
                        Ok(json!({"tool": name, "result": format!("{name}-result-{i}")}))
                    })
                    .await?;
                transcript.push(json!({"tool": t}));
            }
        }
        Ok(json!({"iterations": 3, "transcript": transcript}))
    })
    .retries(2)
}
