//! The chat page in headless Chromium (driven by `playwright-core`, pinned in
//! `tests/browser/package.json`): ask `count to 200`, reload in the middle of the answer,
//! and the page resumes from its last index with the browser observe route; the final
//! text is exactly "1 2 ... 200", nothing duplicated or missing; a `weather in Paris`
//! answer then shows its tool call and result. Chromium is installed
//! with apt-get when missing; node and npm must be present.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod npm;
mod support;

use mastra_core::{demo, Agent};
use mastra_durable::{create_durable_agent, Mastra};
use std::time::Duration;
use support::{test_config, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_mid_answer_resumes_without_duplicates() {
    let chromium = tokio::task::spawn_blocking(npm::chromium).await.unwrap();
    let project = tokio::task::spawn_blocking(|| {
        npm::NodeProject::install("browser", "browser", &["package.json", "chat.mjs"])
    })
    .await
    .unwrap();
    // 20 ms per number: the answer takes about 4 s, time enough to reload in the middle.
    let model = demo::DemoModel::new().with_delay(Duration::from_millis(20));
    let agent = Agent::builder("demo-agent", model)
        .tools(demo::demo_tools())
        .build();
    let mastra = Mastra::builder()
        .durable_agent(create_durable_agent(agent))
        .build()
        .unwrap();
    let server = TestServer::start(mastra, test_config()).await;
    let root = format!("{}/", server.base.trim_end_matches("/api"));
    let report = project
        .run("chat.mjs", &[&root, &chromium], Duration::from_secs(90))
        .await;
    println!("{report}");
    server.shutdown.trigger();
}
