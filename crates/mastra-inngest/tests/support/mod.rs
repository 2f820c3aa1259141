//! Shared test support: serving an app on a free port, the trace functions, and a fake
//! Inngest server with an executor that follows inngest-protocol.md §5.
#![allow(dead_code, unreachable_pub)]

pub mod executor;
pub mod fake_server;
pub mod trace_app;

use axum::Router;
use executor::{Executor, FakeInngest};
use mastra_inngest::{serve, Config, Event, Inngest};
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use trace_app::{trace_functions, APP_ID};

/// Serves `router` on 127.0.0.1 and returns its origin (`http://127.0.0.1:port`).
pub async fn spawn(router: Router) -> (String, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (origin, handle)
}

pub async fn setup(config: impl FnOnce(String) -> Config) -> (Inngest, Executor) {
    let fake = FakeInngest::default();
    let (api, _) = spawn(fake.router()).await;
    let inngest = Inngest::new(config(api));
    let (origin, _) = spawn(serve(&inngest, trace_functions())).await;
    (
        inngest,
        Executor::new(format!("{origin}/api/inngest"), fake),
    )
}

pub async fn dev() -> (Inngest, Executor) {
    setup(|api| Config::dev(APP_ID, api)).await
}

pub fn trigger(name: &str) -> Event {
    Event::new(
        format!("traces/{name}"),
        json!({"fn": name, "runId": "rid-1"}),
    )
    .with_id("evt-trigger")
}

pub fn ops(executor: &Executor) -> Vec<String> {
    executor
        .log
        .iter()
        .map(|x| match &x.body {
            Value::Array(ops) => ops
                .iter()
                .map(|op| op["op"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
                .join("+"),
            _ => x.status.to_string(),
        })
        .collect()
}

pub const KEY: &str = "signkey-test-7468697320697320612074657374206b6579";
pub const FALLBACK: &str = "signkey-test-0123456789abcdef";

pub async fn cloud() -> (Inngest, Executor) {
    setup(|api| {
        let mut config = Config::new(APP_ID);
        config.api_origin = api.clone();
        config.event_api_origin = api;
        config.signing_key = Some(KEY.into());
        config.signing_key_fallback = Some(FALLBACK.into());
        config
    })
    .await
}
