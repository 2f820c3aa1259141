//! A durable run's chunks as an HTTP response carries them: from an index, up to the
//! terminal chunk, or up to the moment the run pauses for an approval or resume data.
//!
//! Ending at the pause matters over HTTP: the client answers with `approve-tool-call`,
//! `decline-tool-call` or `resume-stream`, which streams the rest. Were the first response
//! kept open, it would deliver that rest a second time, and an unanswered run would hold a
//! connection forever. (`observe` does not end at a pause: wire-contract §4.)

use crate::error::ApiError;
use futures::stream::{self, BoxStream, StreamExt};
use mastra_core::{AgentOutput, Chunk, ChunkFrom, ChunkKind, FinishReason, OutputCollector};
use mastra_durable::agent::EventStream;
use mastra_durable::{event_chunk, DurableAgent, DurableError, DurableStream};
use mastra_pubsub::{Event, EventType};

/// A run's chunks, ending after the terminal chunk or at the run's first `suspended` event.
pub(crate) type RunChunks = BoxStream<'static, Result<Chunk, DurableError>>;

/// The chunks of the run `stream` reads, from `offset` (the index `stream` starts at). On a
/// run channel with a log they are read from it, so that a pause can be seen; a live-only
/// channel gives `stream` itself (which stays open while the run is paused).
pub(crate) async fn run_chunks(
    durable: &DurableAgent,
    stream: DurableStream,
    offset: u64,
) -> Result<RunChunks, ApiError> {
    if !durable.context().channel.is_resumable() {
        return Ok(stream.boxed());
    }
    let run_id = stream.run_id().to_owned();
    let events = durable.observe(&run_id, offset).await?;
    // The run goes on without `stream`: dropping it only ends that reader.
    drop(stream);
    Ok(until_paused(events))
}

fn until_paused(events: EventStream) -> RunChunks {
    stream::unfold(Some(events), |state| async move {
        let mut events = state?;
        loop {
            let event = match events.next().await? {
                Ok(event) => event,
                Err(error) => return Some((Err(error), None)),
            };
            if event.kind == EventType::Suspended {
                return None;
            }
            if let Some(chunk) = event_chunk(&event).or_else(|| claim_chunk(&event)) {
                let more = (!event.is_terminal()).then_some(events);
                return Some((Ok(chunk), more));
            }
        }
    })
    .boxed()
}

/// `ownership-claimed` (docs/crash-recovery.md) relayed as a chunk of that type, so that a
/// `/stream` reader can drop what a crashed worker's interrupted step streamed, and so that
/// the chunks it received still count the run's logged events.
fn claim_chunk(event: &Event) -> Option<Chunk> {
    (event.kind == EventType::OwnershipClaimed).then(|| Chunk {
        run_id: event.run_id.clone(),
        from: ChunkFrom::System,
        kind: ChunkKind::Unknown {
            type_name: event.kind.as_str().to_owned(),
            payload: event.data.clone(),
        },
        metadata: None,
    })
}

/// The run's output: from its terminal chunk, or, when it paused, from its stored state
/// with finish reason `suspended` (the caller then approves, declines or resumes it).
pub(crate) async fn run_output(
    durable: &DurableAgent,
    run_id: &str,
    mut chunks: RunChunks,
) -> Result<AgentOutput, ApiError> {
    let mut collector = OutputCollector::new();
    while let Some(chunk) = chunks.next().await {
        if collector.push(&chunk?) {
            return Ok(collector.finish()?);
        }
    }
    let Some(state) = durable.paused_state(run_id).await? else {
        return Ok(collector.finish()?);
    };
    let mut output = AgentOutput::from_steps(
        run_id,
        state.text,
        state.steps,
        state.usage,
        FinishReason::Suspended,
    );
    // The calls the run waits on belong to a step that has not finished: list them too,
    // so the caller knows which `toolCallId` to answer.
    if let Some(pending) = state.pending {
        output
            .tool_calls
            .extend(pending.calls.into_iter().map(|call| call.info));
    }
    output.thread_id = state.thread_id;
    output.resource_id = state.resource_id;
    Ok(output)
}
