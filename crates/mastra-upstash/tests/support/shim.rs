//! The REST shim: Upstash's documented REST format on top of the real Redis.
//!
//! `POST /` with a JSON array (`["SET","k","v"]`) runs one command and answers
//! `{"result": ...}` (200) or `{"error": "..."}` (400); `POST /pipeline` with an array of
//! commands runs them in order and answers an array of those (200); a missing or wrong
//! `Authorization: Bearer <token>` is `401 {"error":"Unauthorized"}`; other methods are 405.
//! Redis replies map to JSON as Upstash documents: bulk and simple strings to strings,
//! integers to numbers, nil to `null`, arrays to arrays. Faults can be injected to check
//! how the client takes delays, lost replies and malformed answers.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use mastra_redis::RetryPolicy;
use mastra_upstash::UpstashConfig;
use serde_json::{json, Value};

use super::{redis_url, unique_prefix, TOKEN};

/// What the shim does with the next request(s) instead of answering normally.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answers this without running anything.
    Answer { status: u16, body: String },
    /// Runs the request against Redis, then answers this instead (a lost reply).
    RunThenAnswer { status: u16, body: String },
    /// Waits this long, then answers normally.
    Delay(Duration),
}

#[derive(Debug, Default)]
struct Faults {
    /// Applied to the next requests, one each.
    next: VecDeque<Fault>,
    /// Applied to every request once `next` is empty.
    always: Option<Fault>,
}

struct ShimState {
    redis: redis::aio::MultiplexedConnection,
    token: String,
    faults: Mutex<Faults>,
    requests: AtomicUsize,
}

/// A running REST shim on 127.0.0.1 (on its own thread and runtime, so it outlives any one
/// test's runtime). Stops when dropped.
pub struct Shim {
    addr: SocketAddr,
    state: Arc<ShimState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Shim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shim").field("addr", &self.addr).finish()
    }
}

impl Shim {
    /// Starts a shim accepting [`TOKEN`].
    pub fn start() -> Self {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("shim runtime");
            runtime.block_on(async move {
                let redis = redis::Client::open(redis_url())
                    .expect("redis url")
                    .get_multiplexed_async_connection()
                    .await
                    .unwrap_or_else(|error| {
                        panic!("Redis must be running for these tests: {error}")
                    });
                let state = Arc::new(ShimState {
                    redis,
                    token: TOKEN.to_owned(),
                    faults: Mutex::new(Faults::default()),
                    requests: AtomicUsize::new(0),
                });
                let app = Router::new()
                    .route("/", post(single))
                    .route("/pipeline", post(pipeline))
                    .with_state(state.clone());
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind the shim");
                let addr = listener.local_addr().expect("shim address");
                ready_tx.send((addr, state)).expect("report the shim");
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop_rx.await;
                    })
                    .await
                    .expect("shim server");
            });
        });
        let (addr, state) = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the shim did not start (is Redis running?)");
        Self {
            addr,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The shim's REST URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Settings for a cache on this shim with a unique key prefix and quick retries.
    pub fn config(&self) -> UpstashConfig {
        UpstashConfig::new(self.url(), TOKEN)
            .with_key_prefix(unique_prefix())
            .with_retry(RetryPolicy::new(
                4,
                Duration::from_millis(10),
                Duration::from_millis(100),
            ))
    }

    /// Applies `fault` to the next request.
    pub fn fail_next(&self, fault: Fault) {
        self.state
            .faults
            .lock()
            .expect("faults")
            .next
            .push_back(fault);
    }

    /// Applies `fault` to every request from now on (`None` to stop).
    pub fn fail_always(&self, fault: Option<Fault>) {
        self.state.faults.lock().expect("faults").always = fault;
    }

    /// How many requests reached the shim.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Shim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One shim for the whole test binary (the conformance suite opens many caches).
pub fn shared_shim() -> &'static Shim {
    static SHIM: OnceLock<Shim> = OnceLock::new();
    SHIM.get_or_init(Shim::start)
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn raw(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, body).into_response()
}

/// Checks the token and applies faults; `Err` is the response to give instead.
async fn admit(state: &ShimState, headers: &HeaderMap) -> Result<Option<Fault>, Response> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let expected = format!("Bearer {}", state.token);
    let authorized = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value == expected);
    if !authorized {
        return Err(answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "Unauthorized"}),
        ));
    }
    let fault = {
        let mut faults = state.faults.lock().expect("faults");
        faults.next.pop_front().or_else(|| faults.always.clone())
    };
    match fault {
        Some(Fault::Answer { status, body }) => Err(raw(status, body)),
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            Ok(None)
        }
        other => Ok(other),
    }
}

async fn single(State(state): State<Arc<ShimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let fault = match admit(&state, &headers).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    let command = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(args)) => args,
        _ => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({"error": "ERR failed to parse command"}),
            )
        }
    };
    let (status, reply) = run(&state, &command).await;
    if let Some(Fault::RunThenAnswer { status, body }) = fault {
        return raw(status, body);
    }
    answer(status, reply)
}

async fn pipeline(
    State(state): State<Arc<ShimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = match admit(&state, &headers).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    let Ok(Value::Array(commands)) = serde_json::from_slice::<Value>(&body) else {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "ERR failed to parse pipeline request"}),
        );
    };
    let mut replies = Vec::with_capacity(commands.len());
    for command in &commands {
        let reply = match command {
            Value::Array(args) => run(&state, args).await.1,
            _ => json!({"error": "ERR failed to parse command"}),
        };
        replies.push(reply);
    }
    if let Some(Fault::RunThenAnswer { status, body }) = fault {
        return raw(status, body);
    }
    answer(StatusCode::OK, Value::Array(replies))
}

/// Runs one command: `(200, {"result": ...})` or `(400, {"error": ...})`.
async fn run(state: &ShimState, args: &[Value]) -> (StatusCode, Value) {
    let mut parts = Vec::with_capacity(args.len());
    for arg in args {
        match arg {
            Value::String(text) => parts.push(text.clone()),
            Value::Number(number) => parts.push(number.to_string()),
            _ => {
                return (
                    StatusCode::BAD_REQUEST,
                    json!({"error": "ERR arguments must be strings or numbers"}),
                )
            }
        }
    }
    let Some((name, rest)) = parts.split_first() else {
        return (
            StatusCode::BAD_REQUEST,
            json!({"error": "ERR empty command"}),
        );
    };
    let mut command = redis::cmd(name);
    for part in rest {
        command.arg(part);
    }
    let mut redis = state.redis.clone();
    match command.query_async::<redis::Value>(&mut redis).await {
        Ok(value) => match to_json(value) {
            Ok(result) => (StatusCode::OK, json!({ "result": result })),
            Err(error) => (StatusCode::BAD_REQUEST, json!({ "error": error })),
        },
        Err(error) => match error.code() {
            Some(code) => {
                let message = match error.detail() {
                    Some(detail) => format!("{code} {detail}"),
                    None => code.to_owned(),
                };
                (StatusCode::BAD_REQUEST, json!({ "error": message }))
            }
            None => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": error.to_string() }),
            ),
        },
    }
}

/// A Redis reply as Upstash's JSON; `Err` for an error reply nested in it.
fn to_json(value: redis::Value) -> Result<Value, String> {
    use redis::Value as R;
    Ok(match value {
        R::Nil => Value::Null,
        R::Int(n) => json!(n),
        R::BulkString(bytes) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        R::SimpleString(text) => Value::String(text),
        R::Okay => Value::String("OK".into()),
        R::Array(items) | R::Set(items) => Value::Array(
            items
                .into_iter()
                .map(to_json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        R::Map(pairs) => {
            let mut flat = Vec::with_capacity(pairs.len() * 2);
            for (key, value) in pairs {
                flat.push(to_json(key)?);
                flat.push(to_json(value)?);
            }
            Value::Array(flat)
        }
        R::Double(x) => json!(x),
        R::Boolean(b) => json!(i64::from(b)),
        R::VerbatimString { text, .. } => Value::String(text),
        R::BigNumber(n) => Value::String(n.to_string()),
        R::ServerError(error) => return Err(format!("{error:?}")),
        other => Value::String(format!("{other:?}")),
    })
}
