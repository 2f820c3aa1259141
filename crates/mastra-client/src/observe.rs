//! `ObserveStream`: a run's envelopes from an index, reconnecting by itself.
//!
//! It remembers the index after the last envelope it delivered. When the connection is
//! lost (a connect error, a 5xx, a body that breaks off, or an end before the terminal
//! envelope and `[DONE]`), it waits (exponential backoff) and observes again from that
//! index, so its reader sees every envelope once, in order. Envelopes below the expected
//! index (never sent by a conforming server) are dropped all the same.

use crate::client::{agent_path, MastraClient};
use crate::error::ClientError;
use crate::sse::SseItem;
use futures::stream::{BoxStream, Stream, StreamExt};
use mastra_pubsub::Event;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// The envelopes of one run (wire-contract §2), from an offset to the terminal envelope.
///
/// Ends after a `finish`, `error` or `abort` envelope, or when the server ends the stream
/// with `[DONE]` (its idle timeout). Yields an error, then ends, when the run is unknown
/// (404), on any other caller mistake, or when reconnecting failed
/// [`RetryPolicy::max_retries`](crate::RetryPolicy) times in a row.
pub struct ObserveStream {
    next_offset: Arc<AtomicU64>,
    run_id: String,
    inner: BoxStream<'static, Result<Event, ClientError>>,
}

impl std::fmt::Debug for ObserveStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObserveStream")
            .field("run_id", &self.run_id)
            .field("next_offset", &self.next_offset())
            .finish_non_exhaustive()
    }
}

impl ObserveStream {
    pub(crate) fn new(client: MastraClient, agent_id: &str, run_id: &str, offset: u64) -> Self {
        let next_offset = Arc::new(AtomicU64::new(offset));
        let state = Observer {
            client,
            path: agent_path(agent_id, "/observe"),
            run_id: run_id.to_owned(),
            next: next_offset.clone(),
            items: None,
            failures: 0,
            ended: false,
        };
        let inner = futures::stream::unfold(state, |mut state| async move {
            state.next_event().await.map(|item| (item, state))
        })
        .boxed();
        Self {
            next_offset,
            run_id: run_id.to_owned(),
            inner,
        }
    }

    /// The index to observe from to continue after what this stream delivered.
    pub fn next_offset(&self) -> u64 {
        self.next_offset.load(Ordering::SeqCst)
    }

    /// The observed run.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }
}

impl ObserveStream {
    /// Reads the run to its end and assembles its envelopes, applying ownership claims
    /// (the text equals that of a run whose worker never crashed).
    pub async fn assemble(mut self) -> Result<crate::RunAssembly, ClientError> {
        let mut assembly = crate::RunAssembly::new();
        while let Some(event) = self.next().await {
            assembly.push(&event?);
        }
        Ok(assembly)
    }
}

impl Stream for ObserveStream {
    type Item = Result<Event, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

struct Observer {
    client: MastraClient,
    path: String,
    run_id: String,
    next: Arc<AtomicU64>,
    items: Option<BoxStream<'static, Result<SseItem, ClientError>>>,
    /// Failures since the last delivered envelope.
    failures: u32,
    ended: bool,
}

impl Observer {
    async fn next_event(&mut self) -> Option<Result<Event, ClientError>> {
        loop {
            if self.ended {
                return None;
            }
            let offset = self.next.load(Ordering::SeqCst);
            let items = match self.items.as_mut() {
                Some(items) => items,
                None => {
                    let body = serde_json::json!({ "runId": self.run_id, "offset": offset });
                    match self.client.post_sse(&self.path, &body).await {
                        Ok(items) => self.items.insert(items),
                        Err(error) => match self.retry(error).await {
                            Ok(()) => continue,
                            Err(error) => return Some(Err(error)),
                        },
                    }
                }
            };
            let lost = match items.next().await {
                Some(Ok(SseItem::Data { data, .. })) => {
                    match serde_json::from_str::<Event>(&data) {
                        Ok(event) => match event.index {
                            Some(index) if index < offset => continue,
                            index => {
                                let next = index.map_or(offset, |i| i.saturating_add(1));
                                self.next.store(next, Ordering::SeqCst);
                                self.failures = 0;
                                self.ended = event.is_terminal();
                                return Some(Ok(event));
                            }
                        },
                        Err(error) => {
                            self.ended = true;
                            return Some(Err(ClientError::Decode(format!("envelope: {error}"))));
                        }
                    }
                }
                Some(Ok(SseItem::Done)) => {
                    self.ended = true;
                    return None;
                }
                Some(Err(error)) => error,
                None => ClientError::Truncated {
                    last_index: offset.checked_sub(1),
                },
            };
            self.items = None;
            if let Err(error) = self.retry(lost).await {
                return Some(Err(error));
            }
        }
    }

    /// Waits before the next attempt, or gives the error up when it is terminal or the
    /// retries are spent (and ends the stream).
    async fn retry(&mut self, error: ClientError) -> Result<(), ClientError> {
        let policy = self.client.retry;
        if !error.is_retryable() {
            self.ended = true;
            return Err(error);
        }
        self.failures += 1;
        if !policy.allows(self.failures) {
            self.ended = true;
            return Err(ClientError::RetriesExhausted {
                attempts: self.failures,
                source: Box::new(error),
            });
        }
        tracing::debug!(run_id = %self.run_id, %error, attempt = self.failures, "observe: reconnecting");
        tokio::time::sleep(policy.backoff(self.failures)).await;
        Ok(())
    }
}

impl MastraClient {
    /// `POST /api/agents/:agentId/observe` `{runId, offset}`: the run's envelopes from
    /// `offset` (inclusive), resuming by itself after a connection loss. Connects on the
    /// first poll.
    pub fn observe(&self, agent_id: &str, run_id: &str, offset: u64) -> ObserveStream {
        ObserveStream::new(self.clone(), agent_id, run_id, offset)
    }
}
