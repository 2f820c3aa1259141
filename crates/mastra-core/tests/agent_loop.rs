//! The multi-step loop: chunk order, step limits, tool failures, aborts, generate, callbacks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use futures::StreamExt;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::tool::{tool, ToolContext};
use mastra_core::{
    demo, AbortSignal, Agent, AgentError, Chunk, ChunkKind, FinishReason, Role, StreamOptions,
    ToolError, Usage,
};
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Deserialize, schemars::JsonSchema)]
struct CityInput {
    city: String,
}

fn weather() -> impl mastra_core::Tool {
    tool(
        "weather",
        "weather by city",
        |input: CityInput, _ctx: ToolContext| async move {
            if input.city == "Atlantis" {
                return Err(ToolError::execution("no weather under the sea"));
            }
            Ok(json!({"city": input.city, "temperatureC": 20}))
        },
    )
}

async fn collect(agent: &Agent, prompt: &str, options: StreamOptions) -> Vec<Chunk> {
    agent.stream(prompt, options).collect().await
}

fn types(chunks: &[Chunk]) -> Vec<String> {
    chunks.iter().map(|c| c.type_name().into_owned()).collect()
}

fn finish_of(chunks: &[Chunk]) -> &mastra_core::chunk::FinishPayload {
    match &chunks.last().expect("no chunks").kind {
        ChunkKind::Finish(finish) => finish,
        other => panic!("last chunk is not finish: {other:?}"),
    }
}

fn text_of(chunks: &[Chunk]) -> String {
    chunks
        .iter()
        .filter_map(|c| match &c.kind {
            ChunkKind::TextDelta(d) => Some(d.text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn two_step_tool_run_streams_chunks_in_upstream_order() {
    let model = ScriptedModel::new([
        ScriptedResponse::new()
            .tool_call("weather", json!({"city": "Paris"}))
            .usage(Usage::new(10, 5)),
        ScriptedResponse::new()
            .text_deltas(["It is ", "20°C."])
            .usage(Usage::new(20, 4)),
    ]);
    let agent = Agent::builder("a", model.clone())
        .instructions("be nice")
        .tool(weather())
        .build();
    let chunks = collect(
        &agent,
        "weather in Paris?",
        StreamOptions::new().run_id("run-7"),
    )
    .await;
    assert_eq!(
        types(&chunks),
        [
            "start",
            "step-start",
            "tool-call-input-streaming-start",
            "tool-call-delta",
            "tool-call-input-streaming-end",
            "tool-call",
            "tool-result",
            "step-finish",
            "step-start",
            "text-start",
            "text-delta",
            "text-delta",
            "text-end",
            "step-finish",
            "finish",
        ]
    );
    assert!(chunks.iter().all(|c| c.run_id == "run-7"));
    let finish = finish_of(&chunks);
    assert_eq!(finish.step_result.reason, FinishReason::Stop);
    assert_eq!(finish.output.usage, Usage::new(30, 9));
    assert_eq!(finish.output.text.as_deref(), Some("It is 20°C."));
    assert_eq!(finish.output.steps.as_ref().map(Vec::len), Some(2));
    let ChunkKind::ToolResult(result) = &chunks[6].kind else {
        panic!("not a tool result")
    };
    assert_eq!(result.result, json!({"city": "Paris", "temperatureC": 20}));
    let ChunkKind::StepFinish(first) = &chunks[7].kind else {
        panic!("not a step finish")
    };
    assert!(first.step_result.is_continued);
    assert_eq!(first.step_result.reason, FinishReason::ToolCalls);

    // The second model call saw the instructions, the tool call and its result.
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    let roles: Vec<Role> = requests[1].messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::System, Role::User, Role::Assistant, Role::Tool]
    );
    assert_eq!(requests[0].tools.len(), 1);
    assert_eq!(requests[0].tools[0].name, "weather");
}

#[tokio::test]
async fn max_steps_stops_the_loop() {
    let looping = || ScriptedResponse::new().tool_call("weather", json!({"city": "Oslo"}));
    let model = ScriptedModel::new((0..10).map(|_| looping()));
    let agent = Agent::builder("a", model.clone())
        .tool(weather())
        .max_steps(3)
        .build();
    let chunks = collect(&agent, "loop", StreamOptions::new()).await;
    assert_eq!(model.calls(), 3);
    let step_finishes = chunks
        .iter()
        .filter(|c| matches!(c.kind, ChunkKind::StepFinish(_)))
        .count();
    assert_eq!(step_finishes, 3);
    assert_eq!(
        finish_of(&chunks).step_result.reason,
        FinishReason::ToolCalls
    );

    // A per-run option overrides the agent's default.
    let model = ScriptedModel::new((0..10).map(|_| looping()));
    let agent = Agent::builder("a", model.clone()).tool(weather()).build();
    collect(&agent, "loop", StreamOptions::new().max_steps(2)).await;
    assert_eq!(model.calls(), 2);
}

#[tokio::test]
async fn default_max_steps_is_five() {
    let model = ScriptedModel::new(
        (0..10).map(|_| ScriptedResponse::new().tool_call("weather", json!({"city": "Rome"}))),
    );
    let agent = Agent::builder("a", model.clone()).tool(weather()).build();
    assert_eq!(agent.max_steps(), 5);
    collect(&agent, "loop", StreamOptions::new()).await;
    assert_eq!(model.calls(), 5);
}

#[tokio::test]
async fn failing_invalid_and_unknown_tools_become_tool_errors_and_the_loop_continues() {
    let model = ScriptedModel::new([
        ScriptedResponse::new()
            .tool_call("weather", json!({"city": "Atlantis"}))
            .tool_call("weather", json!({"town": "Paris"}))
            .tool_call("teleport", json!({}))
            .raw_tool_call("weather", "{not json"),
        ScriptedResponse::text("Sorry."),
    ]);
    let agent = Agent::builder("a", model.clone()).tool(weather()).build();
    let chunks = collect(&agent, "go", StreamOptions::new()).await;
    let errors: Vec<_> = chunks
        .iter()
        .filter_map(|c| match &c.kind {
            ChunkKind::ToolError(e) => Some(e.error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 4);
    assert_eq!(errors[0].message, "no weather under the sea");
    assert_eq!(errors[1].name, "ToolInvalidArgsError");
    assert_eq!(errors[2].name, "ToolNotFoundError");
    assert_eq!(errors[3].name, "ToolInvalidArgsError");
    assert_eq!(model.calls(), 2, "the loop went on to the next step");
    assert_eq!(finish_of(&chunks).step_result.reason, FinishReason::Stop);
    // The model was told about the failures.
    let tool_message = model.requests()[1].messages.last().cloned().unwrap();
    assert_eq!(tool_message.role, Role::Tool);
    assert_eq!(tool_message.content.len(), 4);
}

#[tokio::test]
async fn a_panicking_tool_is_a_tool_error_not_a_crash() {
    #[derive(Deserialize, schemars::JsonSchema)]
    struct Empty {}
    let boom = tool("boom", "panics", |_: Empty, _ctx: ToolContext| async move {
        if true {
            panic!("tool bug");
        }
        Ok::<_, ToolError>(0)
    });
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("boom", json!({})),
        ScriptedResponse::text("ok"),
    ]);
    let agent = Agent::builder("a", model).tool(boom).build();
    let chunks = collect(&agent, "go", StreamOptions::new()).await;
    assert!(chunks.iter().any(
        |c| matches!(&c.kind, ChunkKind::ToolError(e) if e.error.message.contains("panicked"))
    ));
    assert_eq!(finish_of(&chunks).step_result.reason, FinishReason::Stop);
}

#[tokio::test]
async fn tool_calls_run_concurrently_up_to_ten_and_results_keep_call_order() {
    #[derive(Deserialize, schemars::JsonSchema)]
    struct Slot {
        n: u64,
    }
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let slow = tool("slow", "sleeps", move |input: Slot, _ctx: ToolContext| {
        let (running, peak) = (r.clone(), p.clone());
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            // Later calls finish first, so order can only come from the loop.
            tokio::time::sleep(Duration::from_millis(5 + 40 - input.n)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, ToolError>(input.n)
        }
    });
    let mut first = ScriptedResponse::new();
    for n in 0..25 {
        first = first.tool_call("slow", json!({"n": n}));
    }
    let model = ScriptedModel::new([first, ScriptedResponse::text("done")]);
    let agent = Agent::builder("a", model).tool(slow).build();
    let chunks = collect(&agent, "go", StreamOptions::new()).await;
    let results: Vec<u64> = chunks
        .iter()
        .filter_map(|c| match &c.kind {
            ChunkKind::ToolResult(r) => r.result.as_u64(),
            _ => None,
        })
        .collect();
    assert_eq!(results, (0..25).collect::<Vec<_>>());
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak > 1, "tools ran one at a time");
    assert!(
        peak <= mastra_core::agent::MAX_CONCURRENT_TOOLS,
        "peak concurrency {peak}"
    );
}

#[tokio::test]
async fn abort_before_the_model_call_never_calls_the_model() {
    let model = ScriptedModel::new([ScriptedResponse::text("never")]);
    let agent = Agent::builder("a", model.clone()).build();
    let signal = AbortSignal::new();
    signal.abort();
    let aborted = Arc::new(Mutex::new(None));
    let seen = aborted.clone();
    let options = StreamOptions::new()
        .abort_signal(signal)
        .on_abort(move |out| *seen.lock().unwrap() = Some(out.finish_reason));
    let chunks = collect(&agent, "hi", options).await;
    assert_eq!(model.calls(), 0);
    assert_eq!(types(&chunks), ["start", "finish"]);
    assert_eq!(finish_of(&chunks).step_result.reason, FinishReason::Abort);
    assert_eq!(*aborted.lock().unwrap(), Some(FinishReason::Abort));
}

#[tokio::test]
async fn abort_mid_stream_finishes_with_reason_abort_and_the_partial_text() {
    let deltas: Vec<String> = (0..100).map(|i| format!("w{i} ")).collect();
    let model = ScriptedModel::new([ScriptedResponse::new()
        .text_deltas(deltas)
        .delay(Duration::from_millis(2))]);
    let agent = Agent::builder("a", model).build();
    let mut stream = agent.stream("talk", StreamOptions::new());
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        let is_delta = matches!(chunk.kind, ChunkKind::TextDelta(_));
        chunks.push(chunk);
        if is_delta && text_of(&chunks).len() >= 9 {
            stream.abort();
        }
    }
    let finish = finish_of(&chunks);
    assert_eq!(finish.step_result.reason, FinishReason::Abort);
    let partial = finish.output.text.clone().unwrap();
    assert!(partial.starts_with("w0 w1 w2 "), "partial text {partial:?}");
    assert!(partial.len() < 100 * 3, "the run went on after the abort");
    assert_eq!(
        partial,
        text_of(&chunks),
        "finish reports exactly what was streamed"
    );
    let n = chunks.len();
    assert_eq!(
        types(&chunks[n - 2..]),
        ["text-end", "finish"],
        "open text block closed first"
    );
}

#[tokio::test]
async fn abort_during_a_tool_call_cancels_the_tool_and_finishes() {
    #[derive(Deserialize, schemars::JsonSchema)]
    struct Empty {}
    /// Counts how many tool futures were dropped before completing.
    struct Cancelled(Arc<AtomicUsize>);
    impl Drop for Cancelled {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let cancelled = Arc::new(AtomicUsize::new(0));
    let seen = cancelled.clone();
    let hang = tool(
        "hang",
        "never returns by itself",
        move |_: Empty, ctx: ToolContext| {
            let guard = Cancelled(seen.clone());
            async move {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                std::mem::forget(guard);
                Ok::<_, ToolError>(ctx.tool_call_id)
            }
        },
    );
    let model = ScriptedModel::new([ScriptedResponse::new().tool_call("hang", json!({}))]);
    let agent = Agent::builder("a", model).tool(hang).build();
    let mut stream = agent.stream("go", StreamOptions::new());
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        if matches!(chunk.kind, ChunkKind::ToolCall(_)) {
            stream.abort();
        }
        chunks.push(chunk);
    }
    assert_eq!(finish_of(&chunks).step_result.reason, FinishReason::Abort);
    assert!(!chunks
        .iter()
        .any(|c| matches!(c.kind, ChunkKind::ToolResult(_))));
    assert_eq!(
        cancelled.load(Ordering::SeqCst),
        1,
        "the tool call was cancelled"
    );
}

#[tokio::test]
async fn generate_equals_the_collected_stream() {
    let agent = Agent::builder("demo", demo::DemoModel::new())
        .tools(demo::demo_tools())
        .build();
    for prompt in [
        "weather in Lyon",
        "calculate (1 + 2) * 3",
        "count to 12",
        "hello",
    ] {
        let output = agent.generate(prompt, StreamOptions::new()).await.unwrap();
        let chunks = collect(&agent, prompt, StreamOptions::new()).await;
        let finish = finish_of(&chunks);
        assert_eq!(output.text, text_of(&chunks), "{prompt}");
        assert_eq!(output.usage, finish.output.usage, "{prompt}");
        assert_eq!(output.finish_reason, finish.step_result.reason, "{prompt}");
        let steps = finish.output.steps.clone().unwrap();
        assert_eq!(output.steps.len(), steps.len());
        for (a, b) in output.steps.iter().zip(&steps) {
            assert_eq!(
                (&a.text, &a.tool_calls, &a.tool_results, a.usage),
                (&b.text, &b.tool_calls, &b.tool_results, b.usage)
            );
        }
        let streamed_calls = chunks
            .iter()
            .filter(|c| matches!(c.kind, ChunkKind::ToolCall(_)))
            .count();
        assert_eq!(output.tool_calls.len(), streamed_calls);
    }
    let out = agent
        .generate("weather in Lyon", StreamOptions::new())
        .await
        .unwrap();
    let report = demo::demo_weather("Lyon");
    assert_eq!(
        out.text,
        format!(
            "The weather in Lyon is {} at {}°C.",
            report.conditions, report.temperature_c
        )
    );
    assert_eq!(out.tool_results.len(), 1);
}

#[tokio::test]
async fn model_errors_end_the_run_with_one_error_chunk() {
    let model = ScriptedModel::new([ScriptedResponse::new().fail("provider down", true)]);
    let agent = Agent::builder("a", model).build();
    let errors = Arc::new(AtomicUsize::new(0));
    let count = errors.clone();
    let options = StreamOptions::new().on_error(move |_| {
        count.fetch_add(1, Ordering::SeqCst);
    });
    let chunks = collect(&agent, "hi", options).await;
    assert_eq!(types(&chunks), ["start", "step-start", "error"]);
    assert_eq!(errors.load(Ordering::SeqCst), 1);

    // A stream that breaks off without a finish is an error too.
    let model = ScriptedModel::new([ScriptedResponse::new()
        .text_deltas(["a", "b", "c"])
        .cut_after(2)]);
    let agent = Agent::builder("a", model).build();
    let result = agent.generate("hi", StreamOptions::new()).await;
    match result {
        Err(AgentError::Remote(info)) => {
            assert!(info.message.contains("without a finish"), "{info}")
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn callbacks_fire_in_order() {
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (a, b, c) = (log.clone(), log.clone(), log.clone());
    let options = StreamOptions::new()
        .on_chunk(move |chunk| {
            a.lock()
                .unwrap()
                .push(format!("chunk:{}", chunk.type_name()))
        })
        .on_step_finish(move |step| {
            b.lock()
                .unwrap()
                .push(format!("step:{}", step.finish_reason.as_str()))
        })
        .on_finish(move |out| c.lock().unwrap().push(format!("finish:{}", out.text)));
    let agent = Agent::builder("demo", demo::DemoModel::new())
        .tools(demo::demo_tools())
        .build();
    let output = agent.generate("calculate 6 * 7", options).await.unwrap();
    assert_eq!(output.text, "6 * 7 = 42");
    let log = log.lock().unwrap();
    let steps: Vec<&String> = log.iter().filter(|l| l.starts_with("step:")).collect();
    assert_eq!(steps, ["step:tool-calls", "step:stop"]);
    assert!(log.contains(&"finish:6 * 7 = 42".to_owned()));
    assert_eq!(log.first().map(String::as_str), Some("chunk:start"));
    // Every chunk went through on_chunk, the finish chunk after on_finish ran.
    assert_eq!(log.last().map(String::as_str), Some("chunk:finish"));
}

#[tokio::test]
async fn dropping_the_stream_aborts_the_model_call() {
    let model = ScriptedModel::new([ScriptedResponse::new()
        .text_deltas((0..1000).map(|i| i.to_string()))
        .delay(Duration::from_millis(1))]);
    let agent = Agent::builder("a", model.clone()).build();
    let aborted = Arc::new(AtomicUsize::new(0));
    let seen = aborted.clone();
    let mut stream = agent.stream(
        "x",
        StreamOptions::new().on_abort(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        }),
    );
    stream.next().await;
    drop(stream);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(aborted.load(Ordering::SeqCst), 1);
}
