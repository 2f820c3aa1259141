//! Step tools: `run`, `sleep` and `wait_for_event`, replayed from the memoized steps.
//!
//! A memoized step returns its result at once. A new step is *found*: the tools record it
//! and never resolve, so the handler stalls there; the execution (see `execute.rs`) then
//! decides whether to run it now or report it, and drops the stalled handler.

use crate::step_id::{StepCounter, StepId};
use crate::{Event, StepError};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

/// What a `wait_for_event` waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitForEvent {
    /// The event name.
    pub event: String,
    /// How long to wait (`"30s"`, `"1h"`, ...); the result is `None` after that.
    pub timeout: String,
    /// A CEL expression over `event` (the trigger) and `async` (the awaited event).
    pub condition: Option<String>,
}

/// A step body waiting to run, its output already turned into JSON.
pub(crate) type StepBody = BoxFuture<'static, Result<Value, StepError>>;

/// A step found in this execution that has no memoized result.
pub(crate) enum Found {
    Run(StepId, StepBody),
    Sleep(StepId, String),
    Wait(StepId, WaitForEvent),
}

impl Found {
    pub(crate) fn id(&self) -> &StepId {
        match self {
            Found::Run(id, _) | Found::Sleep(id, _) | Found::Wait(id, _) => id,
        }
    }
}

struct Replay {
    counter: StepCounter,
    memo: Map<String, Value>,
    found: Vec<Found>,
}

/// The steps of one execution. Cheap to clone: clones share the execution (so handlers may
/// hand them to concurrent branches, e.g. `futures::join!` of two `run`s, which the server
/// then executes in parallel).
#[derive(Clone)]
pub struct StepTools {
    replay: Arc<Mutex<Replay>>,
}

impl fmt::Debug for StepTools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let replay = self.lock();
        f.debug_struct("StepTools")
            .field("memoized", &replay.memo.len())
            .field("found", &replay.found.len())
            .finish()
    }
}

impl StepTools {
    pub(crate) fn new(memo: Map<String, Value>) -> Self {
        Self {
            replay: Arc::new(Mutex::new(Replay {
                counter: StepCounter::new(),
                memo,
                found: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Replay> {
        self.replay.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next id for `user_id` and its memo, if any (`Some(Value::Null)` is a memo).
    fn lookup(&self, user_id: &str) -> (StepId, Option<Value>) {
        let mut replay = self.lock();
        let id = replay.counter.next(user_id);
        let memo = replay.memo.get(&id.hashed).cloned();
        (id, memo)
    }

    async fn suspend<T>(&self, found: Found) -> T {
        self.lock().found.push(found);
        std::future::pending().await
    }

    pub(crate) fn has_found(&self) -> bool {
        !self.lock().found.is_empty()
    }

    pub(crate) fn take_found(&self) -> Vec<Found> {
        std::mem::take(&mut self.lock().found)
    }

    /// Runs `body` once for the whole run: its output is memoized by Inngest and returned
    /// on every later execution. A step whose final attempt failed returns its error here
    /// (non-retriable: propagating it with `?` fails the function without retries).
    pub async fn run<T, F>(&self, id: &str, body: F) -> Result<T, StepError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        F: Future<Output = Result<T, StepError>> + Send + 'static,
    {
        let (step, memo) = self.lookup(id);
        match memo {
            Some(memo) => memoized(memo),
            None => {
                let body: StepBody = Box::pin(async move {
                    let output = body.await?;
                    serde_json::to_value(output).map_err(|e| {
                        StepError::new(format!("the step output is not JSON: {e}"))
                            .with_name("SerializationError")
                    })
                });
                self.suspend(Found::Run(step, body)).await
            }
        }
    }

    /// Pauses the run for `duration` (`"1s"`, `"5m"`, an RFC 3339 time, ...).
    pub async fn sleep(&self, id: &str, duration: &str) -> Result<(), StepError> {
        match self.lookup(id) {
            (_, Some(_)) => Ok(()),
            (step, None) => self.suspend(Found::Sleep(step, duration.to_owned())).await,
        }
    }

    /// Pauses the run until a matching event arrives (`Some`) or the timeout passes (`None`).
    pub async fn wait_for_event(
        &self,
        id: &str,
        wait: WaitForEvent,
    ) -> Result<Option<Event>, StepError> {
        match self.lookup(id) {
            (_, Some(Value::Null)) => Ok(None),
            (_, Some(event)) => serde_json::from_value(event).map(Some).map_err(|e| {
                StepError::non_retriable(format!("the awaited event is malformed: {e}"))
            }),
            (step, None) => self.suspend(Found::Wait(step, wait)).await,
        }
    }
}

/// A step.run memo: `{"data": ..}` or `{"error": ..}`.
fn memoized<T: DeserializeOwned>(memo: Value) -> Result<T, StepError> {
    let Value::Object(mut memo) = memo else {
        return serde_json::from_value(memo).map_err(decode_error);
    };
    if let Some(error) = memo.remove("error") {
        let mut error: StepError = serde_json::from_value(error).map_err(decode_error)?;
        error.non_retriable = true;
        return Err(error);
    }
    serde_json::from_value(memo.remove("data").unwrap_or(Value::Null)).map_err(decode_error)
}

fn decode_error(error: serde_json::Error) -> StepError {
    StepError::non_retriable(format!("a memoized step does not decode: {error}"))
        .with_name("DeserializationError")
}
