//! A local stand-in for an OpenAI-compatible server: it records every request and answers
//! with scripted replies, streaming the bytes exactly as given.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::Router;
use bytes::Bytes;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// How a streamed reply ends after its last piece.
#[derive(Debug, Clone, Copy)]
pub enum End {
    /// The body ends cleanly.
    Close,
    /// The connection breaks: the chunked body is never terminated.
    Break,
    /// The server keeps the connection open and sends nothing more.
    Hang,
}

#[derive(Debug, Clone)]
pub enum Reply {
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    Stream {
        pieces: Vec<Bytes>,
        /// Pause before each piece, so pieces go out as separate TCP writes.
        pause: Duration,
        end: End,
    },
    /// Waits this long before answering with the inner reply.
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    pub fn error(status: u16, body: &str) -> Self {
        Reply::Status {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    /// An event stream sent in one piece per event.
    pub fn events(events: &[String]) -> Self {
        Reply::Stream {
            pieces: events.iter().map(|e| Bytes::from(e.clone())).collect(),
            pause: Duration::ZERO,
            end: End::Close,
        }
    }

    /// The same bytes cut into pieces of `size`, each flushed on its own.
    pub fn in_pieces(bytes: &str, size: usize, pause: Duration) -> Self {
        Reply::Stream {
            pieces: bytes
                .as_bytes()
                .chunks(size)
                .map(Bytes::copy_from_slice)
                .collect(),
            pause,
            end: End::Close,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    connections: AtomicUsize,
    /// Notified when a streamed body is dropped by the server, i.e. the client went away.
    body_dropped: Notify,
}

pub struct FakeServer {
    pub base_url: String,
    shared: Arc<Shared>,
}

impl FakeServer {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let shared = Arc::new(Shared {
            replies: Mutex::new(replies.into()),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(handle))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let counter = shared.clone();
        let listener = listener.tap_io(move |_| {
            counter.connections.fetch_add(1, Ordering::SeqCst);
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base_url: format!("http://{address}/v1"),
            shared,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many TCP connections clients opened.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Waits until the server dropped a streamed body because the client disconnected.
    pub async fn body_dropped(&self, within: Duration) -> bool {
        tokio::time::timeout(within, self.shared.body_dropped.notified())
            .await
            .is_ok()
    }
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared
        .requests
        .lock()
        .unwrap()
        .push(Recorded { headers, body });
    let reply = shared.replies.lock().unwrap().pop_front();
    let mut reply = reply.unwrap_or_else(|| Reply::error(599, "no scripted reply left"));
    while let Reply::Delayed(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    match reply {
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut response = Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", "application/json");
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(Body::from(body)).unwrap()
        }
        Reply::Stream { pieces, pause, end } => Response::builder()
            .header("content-type", "text/event-stream; charset=utf-8")
            .body(Body::from_stream(stream_body(pieces, pause, end, shared)))
            .unwrap(),
        Reply::Delayed(..) => unreachable!("unwrapped above"),
    }
}

/// Signals `body_dropped` when hyper drops the body, which it does when the client is gone.
struct DropSignal(Arc<Shared>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        self.0.body_dropped.notify_one();
    }
}

fn stream_body(
    pieces: Vec<Bytes>,
    pause: Duration,
    end: End,
    shared: Arc<Shared>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let state = (VecDeque::from(pieces), DropSignal(shared));
    futures::stream::unfold(state, move |(mut pieces, signal)| async move {
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        match pieces.pop_front() {
            Some(piece) => Some((Ok(piece), (pieces, signal))),
            None => match end {
                End::Close => None,
                End::Break => Some((
                    Err(std::io::Error::other("connection broken on purpose")),
                    (pieces, signal),
                )),
                End::Hang => {
                    futures::future::pending::<()>().await;
                    None
                }
            },
        }
    })
}

/// One `chat.completion.chunk` event as OpenAI sends it, with `choices` given as JSON text.
pub fn chunk(choices: &str) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\",\
         \"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\
         \"system_fingerprint\":\"fp_06737a9306\",\"choices\":{choices},\"usage\":null}}\n\n"
    )
}

/// A delta event for choice 0, with the delta given as JSON text.
pub fn delta(delta: &str) -> String {
    chunk(&format!(
        "[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":null}}]"
    ))
}

/// The event that ends choice 0.
pub fn finish(reason: &str) -> String {
    chunk(&format!(
        "[{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"{reason}\"}}]"
    ))
}

/// The usage event: no choices, after the finish reason.
pub fn usage(prompt: u64, completion: u64) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\",\
         \"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\
         \"system_fingerprint\":\"fp_06737a9306\",\"choices\":[],\"usage\":{{\"prompt_tokens\":{prompt},\
         \"completion_tokens\":{completion},\"total_tokens\":{total},\"prompt_tokens_details\":\
         {{\"cached_tokens\":0,\"audio_tokens\":0}},\"completion_tokens_details\":{{\"reasoning_tokens\":0,\
         \"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}}}}\n\n",
        total = prompt + completion
    )
}

pub const DONE: &str = "data: [DONE]\n\n";

/// A whole text answer: role chunk, one chunk per word, finish, usage, `[DONE]`.
pub fn text_reply(words: &[&str], prompt: u64, completion: u64) -> Vec<String> {
    let mut events = vec![delta(r#"{"role":"assistant","content":"","refusal":null}"#)];
    for word in words {
        events.push(delta(&format!(
            "{{\"content\":{}}}",
            serde_json::to_string(word).unwrap()
        )));
    }
    events.push(finish("stop"));
    events.push(usage(prompt, completion));
    events.push(DONE.to_owned());
    events
}
