//! `mastra serve --inngest`: the Inngest serve endpoint at `/api/inngest` next to the agent
//! routes. Introspection answers with the headers the Inngest executor requires, and a sync
//! (`PUT`) registers `demo-agent`'s function with the Inngest API (a fake one here, named
//! by `INNGEST_DEV`: no Inngest server can be installed on these machines).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::routing::post;
use axum::Json;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use support::Serve;

/// A fake Inngest API that keeps the bodies of `POST /fn/register`.
async fn fake_inngest_api() -> (String, Arc<Mutex<Vec<Value>>>) {
    let registered = Arc::new(Mutex::new(Vec::new()));
    let keep = registered.clone();
    let app = axum::Router::new().route(
        "/fn/register",
        post(move |Json(body): Json<Value>| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push(body);
                Json(json!({"ok": true, "modified": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (origin, registered)
}

#[tokio::test]
async fn serve_inngest_mounts_the_endpoint_and_syncs_the_agent_function() {
    let (api, registered) = fake_inngest_api().await;
    let server = Serve::start(
        &["--inngest", "--demo-delay-ms", "0"],
        &[("INNGEST_DEV", &api)],
    );
    assert!(
        server.banner.contains("Inngest engine, dev mode"),
        "{}",
        server.banner
    );
    let client = reqwest::Client::new();
    let endpoint = format!("{}/api/inngest", server.url);

    let introspection = client.get(&endpoint).send().await.unwrap();
    assert_eq!(introspection.status(), 200);
    let headers = introspection.headers().clone();
    assert!(headers["x-inngest-sdk"].to_str().unwrap().contains(":v"));
    assert_eq!(headers["x-inngest-req-version"], "2");
    let body: Value = introspection.json().await.unwrap();
    assert_eq!(body["function_count"], 1);
    assert_eq!(body["mode"], "dev");
    assert_eq!(body["schema_version"], "2024-05-24");

    let synced = client.put(&endpoint).send().await.unwrap();
    assert_eq!(synced.status(), 200, "{}", synced.text().await.unwrap());
    let bodies = registered.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    let sync = &bodies[0];
    assert_eq!(sync["appName"], "mastra");
    assert_eq!(sync["url"], endpoint);
    let functions = sync["functions"].as_array().unwrap();
    let agent = functions
        .iter()
        .find(|f| f["id"] == "mastra-mastra-durable-agent")
        .unwrap_or_else(|| panic!("no agent function in {functions:?}"));
    assert_eq!(agent["triggers"][0]["event"], "mastra/agent.run");
    assert!(agent["steps"]["step"]["runtime"]["url"]
        .as_str()
        .unwrap()
        .starts_with(&endpoint));

    // The agent routes are still there, next to it.
    let agents: Value = client
        .get(format!("{}/api/agents", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(agents["demo-agent"]["durable"], true);
}
