//! An executor that drives Call Requests over HTTP with the Inngest server's rules
//! (inngest-protocol.md §1.8-1.9 and §5, corrected by the recorded traces).

pub use super::fake_server::FakeInngest;
use mastra_inngest::signature::signature_header;
use mastra_inngest::Event;
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One Call Request and its answer.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub step_id: String,
    pub attempt: u32,
    pub disable_immediate_execution: bool,
    pub status: u16,
    pub no_retry: Option<String>,
    pub body: Value,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEnd {
    Completed(Value),
    Failed {
        status: u16,
        body: Value,
    },
    /// A `cancelOn` event matched: no more Call Requests.
    Cancelled,
}

/// The server-side state of one run.
#[derive(Debug, Clone)]
pub struct Run {
    pub run_id: String,
    pub fn_id: String,
    pub event: Event,
    pub steps: Map<String, Value>,
    pub stack: Vec<String>,
    pub attempt: u32,
    pub max_attempts: u32,
    pub planned: VecDeque<String>,
    pub requests: u32,
    pub use_api: bool,
    pub cancelled: bool,
}

impl Run {
    pub fn new(fn_id: &str, event: Event, max_attempts: u32) -> Self {
        Self {
            run_id: format!("run-{fn_id}"),
            fn_id: fn_id.to_owned(),
            event,
            steps: Map::new(),
            stack: Vec::new(),
            attempt: 0,
            max_attempts,
            planned: VecDeque::new(),
            requests: 0,
            use_api: false,
            cancelled: false,
        }
    }
}

/// Plays the Inngest executor against a serve URL.
#[derive(Debug)]
pub struct Executor {
    pub serve_url: String,
    /// Signs every request with this key when set.
    pub signing_key: Option<String>,
    pub fake: FakeInngest,
    pub log: Vec<Exchange>,
    /// How long a WaitForEvent waits for a matching event before its memo is `null`.
    pub wait_timeout: Duration,
    /// `cancelOn`: an event of this name whose `data.runId` equals the trigger's.
    pub cancel_on: Option<String>,
    http: reqwest::Client,
}

pub enum Progress {
    Continue,
    Done(RunEnd),
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Executor {
    pub fn new(serve_url: String, fake: FakeInngest) -> Self {
        Self {
            serve_url,
            signing_key: None,
            fake,
            log: Vec::new(),
            wait_timeout: Duration::from_secs(5),
            cancel_on: None,
            http: reqwest::Client::new(),
        }
    }

    /// Sends one Call Request (targeted when a planned step waits) and folds the answer
    /// into the run.
    pub async fn call(&mut self, run: &mut Run) -> Progress {
        let target = run.planned.pop_front();
        let step_id = target.clone().unwrap_or_else(|| "step".to_owned());
        let event = serde_json::to_value(&run.event).unwrap();
        let mut body = json!({
            "event": event,
            "events": [event],
            "steps": run.steps,
            "ctx": {
                "run_id": run.run_id, "attempt": run.attempt, "max_attempts": run.max_attempts,
                "fn_id": "00000000-0000-0000-0000-000000000000", "step_id": "step", "env": "",
                "disable_immediate_execution": target.is_some(), "use_api": run.use_api,
                "stack": {"stack": run.stack, "current": run.stack.len()},
            },
            "version": if run.requests == 0 { -1 } else { 2 },
            "use_api": run.use_api,
            "defers": {},
        });
        if run.use_api {
            self.fake.state.lock().unwrap().trimmed.insert(
                run.run_id.clone(),
                (body["events"].clone(), body["steps"].clone()),
            );
            body["events"] = json!([]);
            body["event"] = json!({"name": run.event.name, "data": {}});
            body["steps"] = json!({});
        }
        run.requests += 1;
        let bytes = serde_json::to_vec(&body).unwrap();
        let url = format!("{}?fnId={}&stepId={step_id}", self.serve_url, run.fn_id);
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json");
        if let Some(key) = &self.signing_key {
            request = request.header("X-Inngest-Signature", signature_header(&bytes, key, now()));
        }
        let response = request.body(bytes).send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let answer: Value =
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
        // The executor's IsSDK check: every answer must say it comes from an SDK.
        assert!(
            headers.contains_key("x-inngest-sdk"),
            "no X-Inngest-SDK on {status}"
        );
        assert_eq!(headers["x-inngest-req-version"], "2");
        let no_retry = headers
            .get("x-inngest-no-retry")
            .map(|v| v.to_str().unwrap().to_owned());
        self.log.push(Exchange {
            step_id,
            attempt: run.attempt,
            disable_immediate_execution: target.is_some(),
            status,
            no_retry: no_retry.clone(),
            body: answer.clone(),
        });
        match status {
            200 => Progress::Done(RunEnd::Completed(answer)),
            206 => {
                for op in answer.as_array().cloned().unwrap_or_default() {
                    self.fold(run, op).await;
                }
                Progress::Continue
            }
            _ if no_retry.as_deref() == Some("true") || status == 400 => {
                Progress::Done(RunEnd::Failed {
                    status,
                    body: answer,
                })
            }
            _ => {
                run.attempt += 1;
                if run.attempt >= run.max_attempts {
                    return Progress::Done(RunEnd::Failed {
                        status,
                        body: answer,
                    });
                }
                Progress::Continue
            }
        }
    }

    async fn fold(&mut self, run: &mut Run, op: Value) {
        let id = op["id"].as_str().unwrap().to_owned();
        match op["op"].as_str().unwrap() {
            "StepRun" => self.complete(run, id, json!({"data": op["data"]})),
            "StepPlanned" => run.planned.push_back(id),
            "StepError" => {
                run.attempt += 1;
                if run.attempt >= run.max_attempts {
                    self.complete(run, id, json!({"error": strip(&op["error"])}));
                }
            }
            "StepFailed" => self.complete(run, id, json!({"error": strip(&op["error"])})),
            "Sleep" => self.complete(run, id, Value::Null),
            "WaitForEvent" => {
                let name = op["opts"]["event"]
                    .as_str()
                    .or(op["name"].as_str())
                    .unwrap()
                    .to_owned();
                match self.wait_for(&name, run).await {
                    Some(memo) => self.complete(run, id, memo),
                    None => run.cancelled = true,
                }
            }
            other => panic!("unexpected opcode {other}: {op}"),
        }
    }

    fn complete(&self, run: &mut Run, id: String, memo: Value) {
        run.steps.insert(id.clone(), memo);
        run.stack.push(id);
        run.attempt = 0;
    }

    /// Whether a `cancelOn` event for this run arrived.
    pub fn is_cancelled(&self, run: &Run) -> bool {
        let Some(cancel) = &self.cancel_on else {
            return false;
        };
        let run_key = run.event.data.get("runId");
        self.fake
            .events()
            .iter()
            .any(|e| &e.name == cancel && e.data.get("runId") == run_key)
    }

    /// The first event named `name` sent to the fake event API, `null` on timeout, or
    /// `None` when the run is cancelled meanwhile.
    async fn wait_for(&self, name: &str, run: &Run) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + self.wait_timeout;
        loop {
            if self.is_cancelled(run) {
                return None;
            }
            if let Some(event) = self.fake.events().into_iter().find(|e| e.name == name) {
                return Some(serde_json::to_value(event).unwrap());
            }
            if tokio::time::Instant::now() >= deadline {
                return Some(Value::Null);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Calls until the run ends.
    pub async fn run_to_end(&mut self, run: &mut Run) -> RunEnd {
        for _ in 0..100 {
            if self.is_cancelled(run) {
                return RunEnd::Cancelled;
            }
            if let Progress::Done(end) = self.call(run).await {
                return end;
            }
            if run.cancelled {
                return RunEnd::Cancelled;
            }
        }
        panic!("the run did not end in 100 requests");
    }
}

/// The memoized error keeps only `{name, message, stack}`.
fn strip(error: &Value) -> Value {
    let mut out = Map::new();
    for key in ["name", "message", "stack"] {
        if let Some(v) = error.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}
