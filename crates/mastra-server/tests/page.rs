//! `GET /` serves the chat page: HTML that streams from `/stream` and resumes with the
//! browser observe route from the last index it kept in `sessionStorage`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;

#[tokio::test]
async fn the_chat_page_is_served_at_the_root() {
    let server = TestServer::demo().await;
    let root = server.base.trim_end_matches("/api").to_owned();
    let response = server.client.get(format!("{root}/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.unwrap();
    for needle in [
        "<!doctype html>",
        "demo-agent",
        "\"/api/agents/\" + AGENT",
        "/stream",
        "/observe?runId=",
        "&offset=",
        "sessionStorage",
        "EventSource",
        "lastIndex + 1",
    ] {
        assert!(page.contains(needle), "the page lacks {needle:?}");
    }
    // Needs no token, even when the API does.
    let config = test_config().tokens(["secret"]);
    let guarded = TestServer::start(demo_mastra(), config).await;
    let root = guarded.base.trim_end_matches("/api").to_owned();
    assert_eq!(
        guarded
            .client
            .get(format!("{root}/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(guarded.get("/agents").await.status(), 401);
}
