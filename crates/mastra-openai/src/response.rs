//! Turns a streaming HTTP response into a [`ModelStream`]: bytes through the SSE parser and
//! the decoder, with the abort signal and an idle timeout watched between reads.
//!
//! The stream owns the response, so dropping it closes the connection.

use crate::error::describe;
use crate::sse::SseParser;
use crate::stream::{Decoder, Progress};
use bytes::Bytes;
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use mastra_core::{AbortSignal, ModelError, ModelPart, ModelStream};
use std::collections::VecDeque;
use std::time::Duration;

pub(crate) fn model_stream(
    response: reqwest::Response,
    abort: AbortSignal,
    idle_timeout: Duration,
) -> ModelStream {
    let body = Body {
        bytes: Some(response.bytes_stream().boxed()),
        sse: SseParser::new(),
        decoder: Decoder::new(),
        events: Vec::new(),
        ready: VecDeque::new(),
        abort,
        idle_timeout,
        error: None,
        ended: false,
    };
    stream::unfold(body, Body::next_item).boxed()
}

struct Body {
    /// `None` once the last event was read; dropping it releases the connection.
    bytes: Option<BoxStream<'static, reqwest::Result<Bytes>>>,
    sse: SseParser,
    decoder: Decoder,
    events: Vec<String>,
    ready: VecDeque<ModelPart>,
    abort: AbortSignal,
    idle_timeout: Duration,
    /// A failure to report once the parts decoded before it are out.
    error: Option<ModelError>,
    /// `Finish` or an error was handed out: nothing follows.
    ended: bool,
}

enum Read {
    Chunk(Bytes),
    End,
}

impl Body {
    async fn next_item(mut self) -> Option<(Result<ModelPart, ModelError>, Self)> {
        loop {
            if self.ended {
                return None;
            }
            if self.abort.is_aborted() {
                return Some((self.fail(ModelError::Aborted), self));
            }
            if let Some(part) = self.ready.pop_front() {
                self.ended = matches!(part, ModelPart::Finish { .. });
                return Some((Ok(part), self));
            }
            if let Some(error) = self.error.take() {
                return Some((self.fail(error), self));
            }
            // Nothing queued and nothing left to read: the stream is over.
            self.bytes.as_ref()?;
            if let Err(error) = self.pull().await {
                // Parts decoded before the error in the same network chunk go out first.
                self.bytes = None;
                self.error = Some(error);
            }
        }
    }

    fn fail(&mut self, error: ModelError) -> Result<ModelPart, ModelError> {
        self.ended = true;
        self.ready.clear();
        self.bytes = None;
        Err(error)
    }

    /// Reads one network chunk and decodes the events it completes.
    async fn pull(&mut self) -> Result<(), ModelError> {
        let read = self.read().await?;
        let chunk = match read {
            Read::Chunk(chunk) => chunk,
            Read::End => return self.end_of_body(),
        };
        self.events.clear();
        // Events completed before a broken line are still decoded.
        let fed = self.sse.feed(&chunk, &mut self.events);
        for data in &self.events {
            if self.decoder.event(data, &mut self.ready)? == Progress::Done {
                // Anything after `[DONE]` is not ours to read.
                self.bytes = None;
                return Ok(());
            }
        }
        fed
    }

    async fn read(&mut self) -> Result<Read, ModelError> {
        let Some(bytes) = self.bytes.as_mut() else {
            return Ok(Read::End);
        };
        let abort = self.abort.clone();
        let next = tokio::select! {
            biased;
            _ = abort.aborted() => return Err(ModelError::Aborted),
            next = tokio::time::timeout(self.idle_timeout, bytes.next()) => next,
        };
        match next {
            Err(_) => Err(ModelError::Disconnected(format!(
                "no data from the model provider for {:?}",
                self.idle_timeout
            ))),
            Ok(Some(Ok(chunk))) => Ok(Read::Chunk(chunk)),
            Ok(Some(Err(error))) => Err(ModelError::Disconnected(describe(&error))),
            Ok(None) => Ok(Read::End),
        }
    }

    fn end_of_body(&mut self) -> Result<(), ModelError> {
        self.bytes = None;
        if let Some(data) = self.sse.finish() {
            if self.decoder.event(&data, &mut self.ready)? == Progress::Done {
                return Ok(());
            }
        }
        self.decoder.end_of_body(&mut self.ready)
    }
}
