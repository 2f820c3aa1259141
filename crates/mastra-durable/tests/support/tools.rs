//! Agents and tools of the scenarios: the demo agent, a slow scripted writer, and typed
//! tools that need approval, suspend themselves or write data chunks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::tool::{tool, ToolContext};
use mastra_core::{demo, Agent, Tool, ToolError};
use serde::Deserialize;
use serde_json::{json, Value};

/// What the demo model answers to `count to n`.
pub(crate) fn count_text(n: u64) -> String {
    (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
}

/// The demo agent with the demo tools.
pub(crate) fn demo_agent(id: &str) -> Agent {
    Agent::builder(id, demo::DemoModel::new())
        .tools(demo::demo_tools())
        .build()
}

/// A model that streams `deltas` slowly, one per `delay`, in one step.
pub(crate) fn slow_writer(deltas: &[&str], delay: Duration) -> ScriptedModel {
    ScriptedModel::new([ScriptedResponse::new()
        .text_deltas(deltas.iter().copied())
        .delay(delay)])
}

/// Counts how often something happened, across tasks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct Pay {
    pub(crate) amount: u32,
}

/// `pay`: needs a person's approval; counts its runs.
pub(crate) fn pay_tool(runs: Counter) -> impl Tool {
    tool(
        "pay",
        "pays an amount",
        move |input: Pay, _: ToolContext| {
            let runs = runs.clone();
            async move {
                runs.bump();
                Ok::<_, ToolError>(json!({ "paid": input.amount }))
            }
        },
    )
    .with_approval(true)
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct Question {
    pub(crate) question: String,
}

/// `ask`: suspends with `{question}` until resumed, then answers with the resume data.
/// Records the resume data of every execution.
pub(crate) fn ask_tool(seen: Arc<Mutex<Vec<Option<Value>>>>) -> impl Tool {
    tool(
        "ask",
        "asks a person",
        move |input: Question, ctx: ToolContext| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(ctx.resume_data.clone());
                match ctx.resume_data {
                    None => Err(ToolError::Suspend(json!({ "question": input.question }))),
                    Some(answer) => Ok(json!({ "answer": answer })),
                }
            }
        },
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct Work {
    pub(crate) parts: u32,
}

/// `work`: writes a `data-progress` chunk per part, then returns.
pub(crate) fn work_tool() -> impl Tool {
    tool(
        "work",
        "works in parts",
        |input: Work, ctx: ToolContext| async move {
            for part in 1..=input.parts {
                ctx.write_data("progress", json!({ "part": part, "of": input.parts }));
                tokio::task::yield_now().await;
            }
            Ok::<_, ToolError>(json!({ "parts": input.parts }))
        },
    )
}
