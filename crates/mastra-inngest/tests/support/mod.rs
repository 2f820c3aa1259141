//! Shared test support: serving an app on a free port, the trace functions, and a fake
//! Inngest server with an executor that follows inngest-protocol.md §5.
#![allow(dead_code, unreachable_pub)]

pub mod executor;
pub mod trace_app;

use axum::Router;
use tokio::task::JoinHandle;

/// Serves `router` on 127.0.0.1 and returns its origin (`http://127.0.0.1:port`).
pub async fn spawn(router: Router) -> (String, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (origin, handle)
}
