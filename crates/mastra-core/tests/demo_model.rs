//! The built-in demo model: counting, weather and calculator flows, the fallback, pacing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use futures::StreamExt;
use mastra_core::{
    demo, Agent, ChunkKind, FinishReason, LanguageModel, Message, ModelPart, ModelRequest,
    StreamOptions,
};
use std::time::{Duration, Instant};

fn agent(model: demo::DemoModel) -> Agent {
    Agent::builder("demo", model)
        .tools(demo::demo_tools())
        .build()
}

#[tokio::test]
async fn count_to_n_streams_one_delta_per_number() {
    let model = demo::DemoModel::new();
    let mut parts = model
        .stream(ModelRequest::new(vec![Message::user("Count to 5")]))
        .await
        .unwrap();
    let mut deltas = Vec::new();
    while let Some(part) = parts.next().await {
        match part.unwrap() {
            ModelPart::TextDelta(t) => deltas.push(t),
            ModelPart::Finish { reason, usage } => {
                assert_eq!(reason, FinishReason::Stop);
                assert_eq!(usage.output_tokens, 5);
            }
            other => panic!("unexpected part {other:?}"),
        }
    }
    assert_eq!(deltas, ["1", " 2", " 3", " 4", " 5"]);
}

#[tokio::test]
async fn count_rejects_out_of_range_numbers_with_an_answer() {
    let out = agent(demo::DemoModel::new())
        .generate("count to 0", StreamOptions::new())
        .await
        .unwrap();
    assert!(
        out.text.starts_with("I can count from 1 to"),
        "{}",
        out.text
    );
    let out = agent(demo::DemoModel::new())
        .generate("count to 99999999999", StreamOptions::new())
        .await
        .unwrap();
    assert!(
        out.text.starts_with("I can count from 1 to"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn weather_calls_the_tool_then_answers_from_its_result() {
    let out = agent(demo::DemoModel::new())
        .generate("What's the weather in Tokyo?", StreamOptions::new())
        .await
        .unwrap();
    assert_eq!(out.steps.len(), 2);
    assert_eq!(out.tool_calls[0].tool_name, "weather");
    assert_eq!(out.tool_calls[0].args, serde_json::json!({"city": "Tokyo"}));
    let report = demo::demo_weather("Tokyo");
    assert_eq!(
        out.tool_results[0].result,
        serde_json::to_value(&report).unwrap()
    );
    assert!(
        out.text.contains(&format!("{}°C", report.temperature_c)),
        "{}",
        out.text
    );
    assert!(out.text.contains("Tokyo"));
}

#[tokio::test]
async fn calculator_errors_are_explained() {
    let out = agent(demo::DemoModel::new())
        .generate("calculate 1 / 0", StreamOptions::new())
        .await
        .unwrap();
    assert_eq!(out.tool_results.len(), 1);
    assert!(out.tool_results[0].is_error());
    assert_eq!(
        out.text,
        "Sorry, the calculator tool failed: division by zero."
    );
}

#[tokio::test]
async fn anything_else_gets_the_fixed_explanation() {
    let out = agent(demo::DemoModel::new())
        .generate("tell me a joke", StreamOptions::new())
        .await
        .unwrap();
    assert_eq!(out.text, demo::FALLBACK_ANSWER);
    assert_eq!(out.steps.len(), 1);
}

#[tokio::test]
async fn the_delay_paces_each_delta() {
    let agent = agent(demo::DemoModel::new().with_delay(Duration::from_millis(10)));
    let started = Instant::now();
    let mut stream = agent.stream("count to 5", StreamOptions::new());
    let mut deltas = 0;
    while let Some(chunk) = stream.next().await {
        if matches!(chunk.kind, ChunkKind::TextDelta(_)) {
            deltas += 1;
        }
    }
    assert_eq!(deltas, 5);
    // 5 deltas and the finish part, 10 ms each.
    assert!(
        started.elapsed() >= Duration::from_millis(60),
        "{:?}",
        started.elapsed()
    );
}
