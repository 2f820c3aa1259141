//! A fake Inngest server: `/fn/register`, `/e/{key}` and the `use_api` endpoints, each
//! recording what it received.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use mastra_inngest::Event;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the fake server received.
#[derive(Debug, Default)]
pub struct FakeState {
    pub registrations: Vec<(HeaderMap, Option<String>, Value)>,
    pub events: Vec<Event>,
    /// `use_api` payloads by run id: (events, steps).
    pub trimmed: HashMap<String, (Value, Value)>,
    pub api_headers: Vec<HeaderMap>,
    /// Realtime publishes: (query, authorization, body).
    pub published: Vec<(Option<String>, Option<String>, Value)>,
}

#[derive(Debug, Clone, Default)]
pub struct FakeInngest {
    pub state: Arc<Mutex<FakeState>>,
}

impl FakeInngest {
    pub fn router(&self) -> Router {
        Router::new()
            .route("/fn/register", post(register))
            .route("/e/{key}", post(receive))
            .route("/v0/runs/{run_id}/{part}", get(trimmed))
            .route("/v1/realtime/publish", post(publish))
            .with_state(self.clone())
    }

    pub fn events(&self) -> Vec<Event> {
        self.state.lock().unwrap().events.clone()
    }
}

async fn register(
    State(fake): State<FakeInngest>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, String) {
    fake.state
        .lock()
        .unwrap()
        .registrations
        .push((headers, query, body));
    // The dev server answers JSON as text/plain.
    (
        StatusCode::OK,
        json!({"ok": true, "modified": true, "sync_id": "s1", "app_id": "a1"}).to_string(),
    )
}

async fn receive(
    State(fake): State<FakeInngest>,
    Path(_key): Path<String>,
    Json(body): Json<Value>,
) -> String {
    let events: Vec<Event> = match body {
        Value::Array(_) => serde_json::from_value(body).unwrap(),
        single => vec![serde_json::from_value(single).unwrap()],
    };
    let mut state = fake.state.lock().unwrap();
    let mut ids = Vec::new();
    for mut event in events {
        let id = format!("evt-{}", state.events.len());
        event.id.get_or_insert(id.clone());
        event.ts.get_or_insert(1_795_973_196_471);
        event.user.get_or_insert(json!({}));
        ids.push(event.id.clone().unwrap());
        state.events.push(event);
    }
    json!({"ids": ids, "status": 200}).to_string()
}

async fn trimmed(
    State(fake): State<FakeInngest>,
    Path((run_id, part)): Path<(String, String)>,
    headers: HeaderMap,
) -> (StatusCode, Json<Value>) {
    let mut state = fake.state.lock().unwrap();
    state.api_headers.push(headers);
    match (state.trimmed.get(&run_id), part.as_str()) {
        (Some((events, _)), "batch") => (StatusCode::OK, Json(events.clone())),
        (Some((_, steps)), "actions") => (StatusCode::OK, Json(steps.clone())),
        _ => (StatusCode::NOT_FOUND, Json(json!({"error": "no such run"}))),
    }
}

async fn publish(
    State(fake): State<FakeInngest>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    fake.state
        .lock()
        .unwrap()
        .published
        .push((query, auth, body));
    StatusCode::OK
}
