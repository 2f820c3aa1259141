//! Resumable streams: start a durable run, hang up after a few chunks, reconnect from the
//! last index seen + 1 and read the rest. Nothing is lost, nothing is repeated.
//!
//! `cargo run -p resumable_stream` (offline: the built-in demo model counts to 20, one number
//! every 50 ms).

use futures::StreamExt;
use mastra::core::{demo, Agent, ChunkKind, StreamOptions};
use mastra::durable::{create_durable_agent, event_chunk, Mastra};
use std::io::Write;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = Agent::builder(
        "counter",
        demo::DemoModel::new().with_delay(Duration::from_millis(50)),
    )
    .instructions("Count when asked.")
    .build();
    let mastra = Mastra::builder()
        .durable_agent(create_durable_agent(agent))
        .build()?;
    let durable = mastra
        .durable_agent("counter")
        .ok_or("agent not registered")?;

    // 1. Start the run and read a few chunks, as a client would before its connection drops.
    let mut stream = durable.stream("count to 20", StreamOptions::new()).await?;
    let run_id = stream.run_id().to_owned();
    println!("run {run_id}");
    let mut seen = 0;
    while let Some(chunk) = stream.next().await {
        print_chunk(&chunk?.kind);
        seen += 1;
        if seen == 8 {
            break;
        }
    }
    let offset = stream.next_offset();
    drop(stream);
    println!("\n-- connection dropped after {seen} chunks; the run goes on --");

    // 2. Some time passes while the client is away.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // 3. Reconnect from the next index: the missed events come from the log, then the live
    //    ones follow, until the terminal event.
    println!("-- reconnecting with observe({run_id}, {offset}) --");
    let mut events = durable.observe(&run_id, offset).await?;
    while let Some(event) = events.next().await {
        let event = event?;
        if let Some(chunk) = event_chunk(&event) {
            if matches!(chunk.kind, ChunkKind::TextDelta(_)) {
                print!("[{}]", event.index.unwrap_or_default());
            }
            print_chunk(&chunk.kind);
        }
    }
    println!();
    Ok(())
}

fn print_chunk(kind: &ChunkKind) {
    match kind {
        ChunkKind::TextDelta(delta) => print!("{}", delta.text),
        ChunkKind::Finish(finish) => {
            print!("\n[finish] reason={}", finish.step_result.reason.as_str())
        }
        ChunkKind::Error(error) => print!("\n[error] {}", error.error.message),
        _ => {}
    }
    let _ = std::io::stdout().flush();
}
