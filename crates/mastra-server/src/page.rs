//! `GET /`: a chat page for `demo-agent` (plain HTML and JavaScript, no build step).
//!
//! It streams an answer with `POST /api/agents/demo-agent/stream`, keeps the run id and the
//! last event index in `sessionStorage` together with what it has shown, and after a reload
//! (or a broken connection) resumes with `GET /api/agents/demo-agent/observe?runId=..&offset=
//! <last + 1>` through `EventSource`, so nothing is shown twice or skipped.

use axum::response::Html;

/// The page, compiled into the binary.
pub(crate) const INDEX_HTML: &str = include_str!("../assets/index.html");

pub(crate) async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}
