//! `generate()` parity (checklist 19): a durable agent, built directly or registered with a
//! `Mastra` instance, returns the same final output as the plain agent it wraps: text, usage,
//! finish reason, steps, tool calls and results.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::StreamExt;
use mastra_core::{demo, Agent, AgentOutput, FinishReason, StepResult, StreamOptions};
use mastra_durable::{create_durable_agent, Mastra};

fn assistant() -> Agent {
    Agent::builder("assistant", demo::DemoModel::new())
        .instructions("You are a helpful assistant. Answer briefly.")
        .tools(demo::demo_tools())
        .build()
}

fn options() -> StreamOptions {
    StreamOptions {
        thread_id: Some("t-1".into()),
        resource_id: Some("r-1".into()),
        ..StreamOptions::new()
    }
}

/// Steps with their random message ids taken out.
fn comparable(steps: &[StepResult]) -> Vec<StepResult> {
    steps
        .iter()
        .cloned()
        .map(|mut step| {
            assert!(step.message_id.is_some());
            step.message_id = None;
            step
        })
        .collect()
}

fn assert_same(prompt: &str, plain: &AgentOutput, durable: &AgentOutput) {
    assert_eq!(durable.text, plain.text, "{prompt}");
    assert_eq!(durable.usage, plain.usage, "{prompt}");
    assert_eq!(durable.finish_reason, plain.finish_reason, "{prompt}");
    assert_eq!(durable.tool_calls, plain.tool_calls, "{prompt}");
    assert_eq!(durable.tool_results, plain.tool_results, "{prompt}");
    assert_eq!(
        comparable(&durable.steps),
        comparable(&plain.steps),
        "{prompt}"
    );
    assert_eq!(durable.thread_id, plain.thread_id, "{prompt}");
    assert_eq!(durable.resource_id, plain.resource_id, "{prompt}");
}

const PROMPTS: [(&str, usize); 3] = [
    ("count to 7", 1),
    ("weather in Paris", 2),
    ("calculate 2 * (3 + 4)", 2),
];

#[tokio::test]
async fn generate_gives_the_plain_agents_output_for_the_demo_prompts() {
    let plain = assistant();
    let durable = create_durable_agent(assistant()).build();
    for (prompt, steps) in PROMPTS {
        let expected = plain.generate(prompt, options()).await.unwrap();
        let output = durable.generate(prompt, options()).await.unwrap();
        assert_same(prompt, &expected, &output);
        assert_eq!(output.steps.len(), steps, "{prompt}");
        assert_eq!(output.finish_reason, FinishReason::Stop);
        assert!(output.usage.input_tokens > 0 && output.usage.output_tokens > 0);
    }
    let count = durable.generate("count to 7", options()).await.unwrap();
    assert_eq!(count.text, "1 2 3 4 5 6 7");
    let calc = durable
        .generate("calculate 2 * (3 + 4)", options())
        .await
        .unwrap();
    assert_eq!(calc.text, "2 * (3 + 4) = 14");
    assert_eq!(calc.tool_results[0].result["result"], 14.0);
    let weather = durable
        .generate("weather in Paris", options())
        .await
        .unwrap();
    assert!(
        weather.text.starts_with("The weather in Paris is "),
        "{}",
        weather.text
    );
    assert_eq!(weather.tool_calls[0].tool_name, "weather");
}

#[tokio::test]
async fn a_registered_durable_agent_and_a_read_stream_agree_too() {
    let plain = assistant();
    let mastra = Mastra::builder()
        .durable_agent(create_durable_agent(assistant()).id("durable-assistant"))
        .build()
        .unwrap();
    let durable = mastra.durable_agent("durable-assistant").unwrap();
    for (prompt, _) in PROMPTS {
        let expected = plain.generate(prompt, options()).await.unwrap();
        let generated = durable.generate(prompt, options()).await.unwrap();
        assert_same(prompt, &expected, &generated);
        // Folding the chunks by hand gives the same as `output()`.
        let streamed = durable.stream(prompt, options()).await.unwrap();
        let chunks: Vec<_> = streamed.map(Result::unwrap).collect().await;
        let mut collector = mastra_core::OutputCollector::new();
        assert!(chunks.iter().any(|c| collector.push(c)));
        let mut folded = collector.finish().unwrap();
        folded.thread_id = expected.thread_id.clone();
        folded.resource_id = expected.resource_id.clone();
        assert_same(prompt, &expected, &folded);
    }
}
