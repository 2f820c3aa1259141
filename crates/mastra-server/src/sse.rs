//! SSE framing (wire-contract §6, §7) and the streaming response around it.
//!
//! The POST routes send `data: <one-line JSON>\n\n` blocks only (the form
//! `@mastra/client-js` parses) and end with `data: [DONE]\n\n`; the browser route adds an
//! `id: <index>` line to each block. While nothing else is sent, a `: heartbeat\n\n`
//! comment goes out at the configured interval. Shutting the server down ends the body.

use crate::shutdown::Shutdown;
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use futures::stream::{BoxStream, StreamExt};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// The block that ends a POST stream.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// The keep-alive comment; clients ignore it.
pub const HEARTBEAT: &[u8] = b": heartbeat\n\n";

/// How many ready frames are written to the socket as one body chunk.
const MAX_FRAMES_PER_WRITE: usize = 256;

/// `data: <json>\n\n`. `json` must be one line, as `serde_json` writes it.
pub fn data_frame(json: &str) -> Bytes {
    let mut frame = BytesMut::with_capacity(json.len() + 8);
    frame.put_slice(b"data: ");
    frame.put_slice(json.as_bytes());
    frame.put_slice(b"\n\n");
    frame.freeze()
}

/// `id: <index>\ndata: <json>\n\n`: one standard SSE event, as `EventSource` reads it.
pub fn id_frame(index: u64, json: &str) -> Bytes {
    let mut frame = BytesMut::with_capacity(json.len() + 32);
    frame.put_slice(b"id: ");
    frame.put_slice(index.to_string().as_bytes());
    frame.put_slice(b"\ndata: ");
    frame.put_slice(json.as_bytes());
    frame.put_slice(b"\n\n");
    frame.freeze()
}

/// A `text/event-stream` response writing `frames`, with heartbeats while idle; it ends when
/// `frames` ends or `shutdown` is triggered.
pub(crate) fn sse_response(
    frames: BoxStream<'static, Bytes>,
    heartbeat: Duration,
    shutdown: &Shutdown,
) -> Response {
    let body = SseBody {
        frames: frames.ready_chunks(MAX_FRAMES_PER_WRITE).boxed(),
        heartbeat: heartbeat_interval(heartbeat),
        shutdown: Box::pin(shutdown.triggered()),
    };
    let stream = futures::stream::unfold(Some(body), |state| async move {
        let mut body = state?;
        let bytes = body.next().await?;
        Some((Ok::<_, Infallible>(bytes), Some(body)))
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn heartbeat_interval(every: Duration) -> Interval {
    let every = every.max(Duration::from_millis(1));
    let mut interval = tokio::time::interval_at(Instant::now() + every, every);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    interval
}

struct SseBody {
    frames: BoxStream<'static, Vec<Bytes>>,
    heartbeat: Interval,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl SseBody {
    /// The next bytes to write, or `None` at the end.
    async fn next(&mut self) -> Option<Bytes> {
        tokio::select! {
            biased;
            () = &mut self.shutdown => None,
            frames = self.frames.next() => {
                let frames = frames?;
                self.heartbeat.reset();
                Some(concat(frames))
            }
            _ = self.heartbeat.tick() => Some(Bytes::from_static(HEARTBEAT)),
        }
    }
}

fn concat(mut frames: Vec<Bytes>) -> Bytes {
    if frames.len() == 1 {
        return frames.pop().unwrap_or_default();
    }
    let len = frames.iter().map(Bytes::len).sum();
    let mut out = BytesMut::with_capacity(len);
    for frame in frames {
        out.put_slice(&frame);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util_shim::collect;

    /// Reads a response body to the end (or until `limit` bytes).
    mod http_body_util_shim {
        use axum::body::Body;
        use futures::StreamExt;

        pub(super) async fn collect(body: Body, limit: usize) -> String {
            let mut stream = body.into_data_stream();
            let mut out = Vec::new();
            while let Some(Ok(bytes)) = stream.next().await {
                out.extend_from_slice(&bytes);
                if out.len() >= limit {
                    break;
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        }
    }

    #[test]
    fn frames_are_exact() {
        assert_eq!(&data_frame(r#"{"a":1}"#)[..], b"data: {\"a\":1}\n\n");
        assert_eq!(&id_frame(7, "{}")[..], b"id: 7\ndata: {}\n\n");
    }

    #[tokio::test]
    async fn response_has_sse_headers_and_ends_with_its_frames() {
        let frames = futures::stream::iter([data_frame("1"), Bytes::from_static(DONE)]).boxed();
        let response = sse_response(frames, Duration::from_secs(60), &Shutdown::new());
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["cache-control"], "no-cache");
        assert_eq!(response.headers()["x-accel-buffering"], "no");
        let body = collect(response.into_body(), usize::MAX).await;
        assert_eq!(body, "data: 1\n\ndata: [DONE]\n\n");
    }

    #[tokio::test]
    async fn idle_streams_send_heartbeats_and_shutdown_ends_them() {
        let shutdown = Shutdown::new();
        let frames = futures::stream::pending().boxed();
        let response = sse_response(frames, Duration::from_millis(10), &shutdown);
        let body = collect(response.into_body(), HEARTBEAT.len() * 2).await;
        assert_eq!(body.as_bytes(), [HEARTBEAT, HEARTBEAT].concat());

        let frames = futures::stream::pending().boxed();
        let response = sse_response(frames, Duration::from_secs(60), &shutdown);
        shutdown.trigger();
        assert_eq!(collect(response.into_body(), usize::MAX).await, "");
    }
}
