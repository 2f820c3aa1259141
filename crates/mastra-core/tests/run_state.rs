//! A run can be cut between any two steps, its state serialized, and continued by a
//! different executor (as another process would) with the same result.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use mastra_core::{
    demo, AbortSignal, Agent, Callbacks, Chunk, ChunkKind, RunState, StepProgress, StreamOptions,
};

fn demo_agent() -> Agent {
    Agent::builder("demo", demo::DemoModel::new())
        .instructions("help")
        .tools(demo::demo_tools())
        .build()
}

#[tokio::test]
async fn a_run_continued_from_serialized_state_matches_an_uninterrupted_one() {
    let prompt = vec![mastra_core::Message::user("weather in Berlin")];
    let options = StreamOptions::new().run_id("r-1");
    let whole = demo_agent()
        .generate(prompt.clone(), options.clone())
        .await
        .unwrap();

    let mut state = demo_agent().new_run_state(prompt, &options);
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut checkpoints = 0;
    let outcome = loop {
        // A fresh agent and executor for every step, fed only the JSON of the state.
        let json = serde_json::to_string(&state).unwrap();
        let restored: RunState = serde_json::from_str(&json).unwrap();
        let mut executor = demo_agent().executor(
            restored,
            AbortSignal::new(),
            Callbacks::default(),
            Vec::new(),
        );
        let progress = executor.step().await.unwrap();
        state = executor.state().clone();
        chunks.extend(std::mem::take(executor_sink(&mut executor)));
        match progress {
            StepProgress::Continue => checkpoints += 1,
            StepProgress::Done(outcome) => break outcome.unwrap(),
            other => panic!("unexpected {other:?}"),
        }
    };
    // model step, tool step, model step, tool step (no tools, finishes).
    assert_eq!(checkpoints, 3);
    assert_eq!(outcome.text, whole.text);
    assert_eq!(outcome.usage, whole.usage);
    assert_eq!(outcome.tool_results, whole.tool_results);
    let starts = chunks
        .iter()
        .filter(|c| matches!(c.kind, ChunkKind::Start(_)))
        .count();
    let finishes = chunks.iter().filter(|c| c.is_terminal()).count();
    assert_eq!(
        (starts, finishes),
        (1, 1),
        "one start and one terminal chunk across executors"
    );
    assert!(chunks.iter().all(|c| c.run_id == "r-1"));
}

/// The executor's sink, to read what one step emitted.
fn executor_sink(executor: &mut mastra_core::RunExecutor<Vec<Chunk>>) -> &mut Vec<Chunk> {
    executor.sink_mut()
}
