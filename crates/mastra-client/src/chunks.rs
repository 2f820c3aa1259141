//! `ChunkStream`: a run's chunks (wire-contract §3) from `stream` and the approval routes.
//!
//! A stream started by [`MastraClient::stream`] is resumable. The client picks the run id
//! (a random UUID, unless the request names one), so it knows the run before the first
//! byte arrives. Every logged event before a pause is exactly one chunk on `/stream`, so
//! the number of chunks received is the index of the next event. When the connection is
//! lost, the stream continues with [`MastraClient::observe`] from that index (which
//! reconnects by itself from then on) and turns envelopes back into chunks. If the first
//! `POST /stream` never reached the server (observe answers 404), it is sent again with the
//! same run id; a 409 then means it had reached it after all, and observing goes on.
//!
//! After a crash of the worker executing a run (evented engine), the new owner's
//! `ownership-claimed` arrives as a chunk of that type (on `/stream` as from `observe`);
//! [`ChunkStream::text`] and [`ChunkStream::assemble`] drop what the interrupted attempt
//! streamed (see [`RunAssembly`]). While observing, envelopes of an older generation than
//! one already seen are dropped.

use crate::assemble::{OwnershipClaim, RunAssembly};
use crate::client::{agent_path, MastraClient};
use crate::envelope::envelope_chunk;
use crate::error::ClientError;
use crate::observe::ObserveStream;
use crate::sse::SseItem;
use futures::stream::{BoxStream, Stream, StreamExt};
use mastra_core::{Chunk, ChunkKind};
use mastra_pubsub::EventType;
use reqwest::StatusCode;
use serde_json::Value;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// The chunks of one run, up to its terminal chunk or the moment it pauses for an approval
/// or resume data (then the stream ends; answer with the approval routes).
pub struct ChunkStream {
    run_id: String,
    next_index: Arc<AtomicU64>,
    inner: BoxStream<'static, Result<Chunk, ClientError>>,
}

impl std::fmt::Debug for ChunkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream")
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

impl ChunkStream {
    /// The run these chunks belong to.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// For a stream from `stream`: the index of the run's next event (chunks received so
    /// far), to observe from after dropping this stream.
    pub fn next_index(&self) -> u64 {
        self.next_index.load(Ordering::SeqCst)
    }

    /// Reads the stream to its end and returns the text of its `text-delta` chunks (less
    /// what an ownership claim voided); an `error` chunk becomes [`ClientError::Run`].
    pub async fn text(self) -> Result<String, ClientError> {
        let assembly = self.assemble().await?;
        if let Some(message) = assembly.chunks().find_map(|chunk| match &chunk.kind {
            ChunkKind::Error(error) => Some(error.error.message.clone()),
            _ => None,
        }) {
            return Err(ClientError::Run(message));
        }
        Ok(assembly.text())
    }

    /// Reads the stream to its end and assembles its chunks, applying ownership claims.
    pub async fn assemble(mut self) -> Result<RunAssembly, ClientError> {
        let mut assembly = RunAssembly::new();
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            // After a chunk, the next index is the one after its event.
            let index = self.next_index().checked_sub(1);
            assembly.push_chunk(index, chunk);
        }
        Ok(assembly)
    }
}

impl Stream for ChunkStream {
    type Item = Result<Chunk, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

pub(crate) enum Source {
    /// Not connected yet, or the `/stream` request must be sent again.
    Start,
    Posted(BoxStream<'static, Result<SseItem, ClientError>>),
    Observing(ObserveStream),
    Ended,
}

struct Reader {
    client: MastraClient,
    agent_id: String,
    run_id: String,
    /// The `/stream` body to (re)send; `None` for a stream that cannot be resumed.
    body: Option<Value>,
    source: Source,
    next_index: Arc<AtomicU64>,
    failures: u32,
    /// The newest ownership generation seen while observing.
    generation: Option<u64>,
}

impl Reader {
    async fn next_chunk(&mut self) -> Option<Result<Chunk, ClientError>> {
        loop {
            match &mut self.source {
                Source::Ended => return None,
                Source::Start => {
                    let Some(body) = self.body.clone() else {
                        self.source = Source::Ended;
                        return None;
                    };
                    let path = agent_path(&self.agent_id, "/stream");
                    match self.client.post_sse(&path, &body).await {
                        Ok(items) => self.source = Source::Posted(items),
                        Err(error)
                            if error.status() == Some(StatusCode::CONFLICT)
                                && self.failures > 0 =>
                        {
                            self.observe();
                        }
                        Err(error) => {
                            if let Err(error) = self.backoff(error).await {
                                return Some(Err(error));
                            }
                        }
                    }
                }
                Source::Posted(items) => match items.next().await {
                    Some(Ok(SseItem::Data { data, .. })) => {
                        let chunk = match serde_json::from_str::<Chunk>(&data) {
                            Ok(chunk) => chunk,
                            Err(error) => {
                                self.source = Source::Ended;
                                return Some(Err(ClientError::Decode(format!("chunk: {error}"))));
                            }
                        };
                        self.next_index.fetch_add(1, Ordering::SeqCst);
                        self.failures = 0;
                        if chunk.is_terminal() {
                            self.source = Source::Ended;
                        }
                        return Some(Ok(chunk));
                    }
                    Some(Ok(SseItem::Done)) => {
                        self.source = Source::Ended;
                        return None;
                    }
                    Some(Err(error)) => self.lost(error),
                    None => self.lost(ClientError::Truncated {
                        last_index: self.next_index.load(Ordering::SeqCst).checked_sub(1),
                    }),
                },
                Source::Observing(events) => match events.next().await {
                    Some(Ok(event)) => {
                        self.next_index
                            .store(events.next_offset(), Ordering::SeqCst);
                        if event.kind == EventType::Suspended {
                            self.source = Source::Ended;
                            return None;
                        }
                        if let (Some(generation), Some(seen)) = (event.generation, self.generation)
                        {
                            if generation < seen {
                                continue; // a superseded executor's event
                            }
                        }
                        self.generation = self.generation.max(event.generation);
                        if let Some(claim) = OwnershipClaim::from_event(&event) {
                            return Some(Ok(claim.to_chunk(&self.run_id)));
                        }
                        if let Some(chunk) = envelope_chunk(&event) {
                            return Some(Ok(chunk));
                        }
                    }
                    Some(Err(error))
                        if error.status() == Some(StatusCode::NOT_FOUND)
                            && self.next_index.load(Ordering::SeqCst) == 0
                            && self.body.is_some() =>
                    {
                        // The run does not exist: the first POST never reached the server.
                        if let Err(error) = self.backoff(error).await {
                            return Some(Err(error));
                        }
                        self.source = Source::Start;
                    }
                    Some(Err(error)) => {
                        self.source = Source::Ended;
                        return Some(Err(error));
                    }
                    None => {
                        self.source = Source::Ended;
                        return None;
                    }
                },
            }
        }
    }

    /// The `/stream` connection broke: continue by observing (or end, when not resumable).
    fn lost(&mut self, error: ClientError) {
        tracing::debug!(run_id = %self.run_id, %error, "stream: connection lost, observing");
        if self.body.is_some() {
            self.failures += 1;
            self.observe();
        } else {
            self.source = Source::Ended;
        }
    }

    fn observe(&mut self) {
        let offset = self.next_index.load(Ordering::SeqCst);
        self.source = Source::Observing(self.client.observe(&self.agent_id, &self.run_id, offset));
    }

    async fn backoff(&mut self, error: ClientError) -> Result<(), ClientError> {
        let policy = self.client.retry;
        self.failures += 1;
        if self.body.is_none()
            || !error.is_retryable() && error.status() != Some(StatusCode::NOT_FOUND)
        {
            self.source = Source::Ended;
            return Err(error);
        }
        if !policy.allows(self.failures) {
            self.source = Source::Ended;
            return Err(ClientError::RetriesExhausted {
                attempts: self.failures,
                source: Box::new(error),
            });
        }
        tokio::time::sleep(policy.backoff(self.failures)).await;
        Ok(())
    }
}

impl MastraClient {
    /// A chunk stream of `run_id` reading `source`; resumable when `body` (the `/stream`
    /// request) is given.
    pub(crate) fn chunk_stream(
        &self,
        agent_id: &str,
        run_id: String,
        body: Option<Value>,
        source: Source,
    ) -> ChunkStream {
        let next_index = Arc::new(AtomicU64::new(0));
        let reader = Reader {
            client: self.clone(),
            agent_id: agent_id.to_owned(),
            run_id: run_id.clone(),
            body,
            source,
            next_index: next_index.clone(),
            failures: 0,
            generation: None,
        };
        let inner = futures::stream::unfold(reader, |mut reader| async move {
            reader.next_chunk().await.map(|item| (item, reader))
        })
        .boxed();
        ChunkStream {
            run_id,
            next_index,
            inner,
        }
    }
}
