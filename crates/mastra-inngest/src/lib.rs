//! # mastra-inngest
//!
//! Our own implementation of the [Inngest](https://www.inngest.com) SDK protocol over HTTP,
//! so that durable work runs as Inngest functions: Inngest's executor calls the app's serve
//! endpoint once per step, memoizes each step's output, retries failures and survives any
//! process loss.
//!
//! - [`InngestFunction`]: an id, a trigger event, `cancelOn` rules and an async handler
//!   that takes its steps through [`StepTools`] (`run`, `sleep`, `wait_for_event`).
//! - [`serve`]: the axum router for the one serve URL (`/api/inngest` by default): `GET`
//!   introspection, `PUT` sync (`POST {api}/fn/register`), `POST` Call Requests with
//!   deterministic replay of memoized steps, `StepPlanned` when a step may not run now,
//!   targeted step requests, `StepError`/`StepFailed`, non-retriable errors, signature
//!   checks (HMAC, five-minute window, fallback key) and `use_api` payload fetching.
//! - [`Inngest`]: the configuration ([`Config::from_env`] reads the standard `INNGEST_*`
//!   variables) and [`Inngest::send`] for events.
//! - [`create_inngest_agent`] and [`InngestEngine`]: a durable agent whose runs execute as
//!   one Inngest function (see [`agent`]): each agent step is a `step.run` returning a small
//!   state delta, chunks go through the run's channel, tool approval waits with
//!   `WaitForEvent`, and an abort is recorded beside the run's log so that the step
//!   executing or the next one to start writes the run's one aborted `finish`.
//! - The protocol pieces are public and pure: [`hash_step_id`], [`signature`],
//!   [`Opcode`], [`RegisterRequest`].
//!
//! ## How a function runs
//!
//! Each Call Request replays the handler from the top. A step whose result Inngest sent
//! back returns it at once; the first new step stops the handler (its future is dropped),
//! runs if the protocol allows it, and is reported in a `206`. The handler must therefore be
//! deterministic between steps and await nothing but its step tools.
//!
//! ```
//! use mastra_inngest::{serve, Config, Inngest, InngestFunction, StepError};
//! use serde_json::{json, Value};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let greet = InngestFunction::new("greet", "demo/greet", |input, step| async move {
//!     let name = input.event.data["name"].as_str().unwrap_or("world").to_owned();
//!     let text: String = step.run("compose", async move { Ok(format!("hello {name}")) }).await?;
//!     Ok::<Value, StepError>(json!({ "text": text }))
//! });
//! let inngest = Inngest::new(Config::dev("demo-app", "http://127.0.0.1:8288"));
//! let app = serve(&inngest, vec![greet]);
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let url = format!("http://{}/api/inngest", listener.local_addr().unwrap());
//! tokio::spawn(async move { axum::serve(listener, app).await });
//!
//! // What Inngest's executor would send first: nothing memoized yet.
//! let call = json!({
//!     "event": { "name": "demo/greet", "data": { "name": "Ada" } },
//!     "steps": {},
//!     "ctx": { "run_id": "r1", "attempt": 0, "max_attempts": 5, "stack": { "stack": [] } },
//! });
//! let client = reqwest::Client::new();
//! let answer = client
//!     .post(format!("{url}?fnId=demo-app-greet&stepId=step"))
//!     .json(&call)
//!     .send()
//!     .await
//!     .unwrap();
//! assert_eq!(answer.status(), 206);
//! let ops: Value = answer.json().await.unwrap();
//! assert_eq!(ops[0]["op"], "StepRun");
//! assert_eq!(ops[0]["data"], "hello Ada");
//! # }
//! ```
//!
//! ## Testing
//!
//! No Inngest server can be installed on the machines this crate is developed and tested
//! on. Its tests check the protocol against published test vectors and against wire
//! traces recorded between a real Inngest dev server and the official JS SDK
//! (`tests/traces.rs`), replay the same Call Requests against the JS SDK itself installed
//! with npm (`tests/js_oracle.rs`, needs Node), and drive the endpoint and
//! `create_inngest_agent` over real HTTP with a fake executor that follows the server's
//! rules (`tests/executor.rs`, `tests/signatures.rs`, `tests/agent.rs`). The
//! end-to-end test against a real dev server (`tests/dev_server.rs`) is `#[ignore]`d and
//! runs only when `INNGEST_DEV_URL` points at one: CI does **not** run it.
//!
//! This crate has no cargo features.

pub mod agent;
mod client;
mod config;
mod error;
mod event;
mod execute;
mod function;
mod opcode;
mod register;
mod request;
mod serve;
pub mod signature;
mod step_id;
mod step_tools;

pub use agent::{create_inngest_agent, InngestEngine};
pub use client::{Inngest, RegisterResponse, FRAMEWORK, SDK_NAME};
pub use config::{
    Config, Mode, CLOUD_API_ORIGIN, CLOUD_EVENT_API_ORIGIN, DEFAULT_SERVE_PATH, DEV_SERVER_ORIGIN,
};
pub use error::{InngestError, StepError};
pub use event::Event;
pub use function::{CancelOn, FunctionInput, InngestFunction};
pub use opcode::{Op, Opcode, Userland};
pub use register::{
    Cancel, FunctionConfig, RegisterRequest, Retries, Runtime, StepConfig, Trigger, DEFAULT_RETRIES,
};
pub use request::{CallContext, CallRequest, Stack};
pub use serve::serve;
pub use step_id::{hash_step_id, StepCounter, StepId};
pub use step_tools::{StepTools, WaitForEvent};
