//! Quickstart: an agent with the demo weather and calculator tools on the built-in demo model,
//! printing its streamed answers. Runs offline, no API key.
//!
//! `cargo run -p quickstart` runs three prompts; `cargo run -p quickstart -- "count to 20"`
//! runs your own. Set `OPENAI_API_KEY` (and optionally `OPENAI_BASE_URL`, `OPENAI_MODEL`) to
//! use an OpenAI-compatible model instead.

use futures::StreamExt;
use mastra::core::{demo, Agent, ChunkKind, StreamOptions};
use std::io::Write;
use std::time::Duration;

#[tokio::main]
async fn main() {
    let agent = build_agent();
    let prompts: Vec<String> = std::env::args().skip(1).collect();
    let prompts = if prompts.is_empty() {
        vec![
            "count to 10".to_owned(),
            "weather in Paris".to_owned(),
            "calculate 2 * (3 + 4.5)".to_owned(),
        ]
    } else {
        prompts
    };
    for prompt in prompts {
        println!("> {prompt}");
        run(&agent, &prompt).await;
        println!();
    }
}

fn build_agent() -> Agent {
    let builder = match openai_model() {
        Some(model) => Agent::builder("quickstart", model),
        None => Agent::builder(
            "quickstart",
            demo::DemoModel::new().with_delay(Duration::from_millis(40)),
        ),
    };
    builder
        .name("Quickstart agent")
        .instructions("You are a helpful assistant. Use the tools for weather and arithmetic.")
        .tools(demo::demo_tools())
        .build()
}

#[cfg(feature = "openai")]
fn openai_model() -> Option<mastra::openai::OpenAiModel> {
    std::env::var("OPENAI_API_KEY").ok()?;
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned());
    match mastra::openai::OpenAiModel::from_env(model) {
        Ok(model) => Some(model),
        Err(error) => {
            eprintln!("OpenAI configuration ignored ({error}); using the demo model");
            None
        }
    }
}

#[cfg(not(feature = "openai"))]
fn openai_model() -> Option<demo::DemoModel> {
    None
}

async fn run(agent: &Agent, prompt: &str) {
    let mut stream = agent.stream(prompt, StreamOptions::new());
    let mut out = std::io::stdout();
    while let Some(chunk) = stream.next().await {
        match &chunk.kind {
            ChunkKind::TextDelta(delta) => {
                print!("{}", delta.text);
                let _ = out.flush();
            }
            ChunkKind::ToolCall(call) => {
                let args = call.args.clone().unwrap_or_default();
                println!("[tool call] {}({args})", call.tool_name);
            }
            ChunkKind::ToolResult(result) => {
                println!("[tool result] {}", result.result);
            }
            ChunkKind::ToolError(error) => {
                println!("[tool error] {}", error.error.message);
            }
            ChunkKind::Finish(finish) => {
                let usage = finish.output.usage;
                println!(
                    "\n[finish] reason={} tokens in={} out={}",
                    finish.step_result.reason.as_str(),
                    usage.input_tokens,
                    usage.output_tokens
                );
            }
            ChunkKind::Error(error) => {
                println!("\n[error] {}", error.error.message);
            }
            _ => {}
        }
    }
}
