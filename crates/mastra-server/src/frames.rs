//! Runs' chunks and envelopes as SSE frames.

use crate::sse::{data_frame, id_frame, DONE};
use bytes::Bytes;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use mastra_core::chunk::ErrorPayload;
use mastra_core::{Chunk, ChunkKind, ErrorInfo};
use mastra_durable::agent::EventStream;
use mastra_durable::DurableError;
use std::fmt::Display;

/// How envelopes are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnvelopeFraming {
    /// `data: <json>` blocks ending with `data: [DONE]` (the POST route, `@mastra/client-js`).
    DataOnly,
    /// `id: <index>` + `data: <json>` blocks, no `[DONE]` (the GET route, `EventSource`).
    WithIds,
}

/// One `data:` frame per chunk, then `[DONE]`. A failure of the stream becomes an `error`
/// chunk (clients throw on it), after which the stream ends.
pub(crate) fn chunk_frames<S, E>(run_id: String, chunks: S) -> BoxStream<'static, Bytes>
where
    S: Stream<Item = Result<Chunk, E>> + Send + 'static,
    E: Display,
{
    let frames = chunks
        .scan(false, move |failed, item| {
            if *failed {
                return futures::future::ready(None);
            }
            let frame = match item {
                Ok(chunk) => chunk_frame(&chunk),
                Err(error) => {
                    *failed = true;
                    tracing::warn!(%run_id, %error, "the run's stream failed");
                    chunk_frame(&stream_error_chunk(&run_id, &error.to_string()))
                }
            };
            futures::future::ready(Some(frame))
        })
        .chain(stream::once(async { Bytes::from_static(DONE) }));
    frames.boxed()
}

fn chunk_frame(chunk: &Chunk) -> Bytes {
    match serde_json::to_string(chunk) {
        Ok(json) => data_frame(&json),
        Err(error) => {
            let fallback = stream_error_chunk(&chunk.run_id, &format!("encoding: {error}"));
            data_frame(&serde_json::to_string(&fallback).unwrap_or_default())
        }
    }
}

fn stream_error_chunk(run_id: &str, message: &str) -> Chunk {
    Chunk::agent(
        run_id,
        ChunkKind::Error(ErrorPayload {
            error: ErrorInfo::new("StreamError", message),
        }),
    )
}

/// One frame per envelope. The stream ends after the terminal envelope, or when the run was
/// quiet for the idle timeout (then with `[DONE]` too, in the data-only framing); any other
/// failure ends it without `[DONE]`, so that the client observes again from its next index.
pub(crate) fn envelope_frames(
    events: EventStream,
    framing: EnvelopeFraming,
) -> BoxStream<'static, Bytes> {
    let done = move || match framing {
        EnvelopeFraming::DataOnly => Some((Bytes::from_static(DONE), None)),
        EnvelopeFraming::WithIds => None,
    };
    stream::unfold(Some(events), move |state| async move {
        let mut events = state?;
        match events.next().await {
            None | Some(Err(DurableError::IdleTimeout { .. })) => done(),
            Some(Ok(event)) => {
                // The envelope writer of mastra-pubsub: serde_json's bytes, sooner.
                let json = event.to_json();
                let frame = match (framing, event.index) {
                    (EnvelopeFraming::WithIds, Some(index)) => id_frame(index, &json),
                    _ => data_frame(&json),
                };
                Some((frame, Some(events)))
            }
            Some(Err(error)) => {
                tracing::warn!(%error, "observing a run failed");
                None
            }
        }
    })
    .boxed()
}
