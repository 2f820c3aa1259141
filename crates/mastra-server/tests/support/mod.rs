//! Shared by the server's scenario tests: a real server on 127.0.0.1:0, the agents it
//! serves, and an SSE reader that parses bodies the way `@mastra/client-js` does.

#![allow(dead_code)]

use futures::StreamExt;
use mastra_core::tool::{tool, ToolContext};
use mastra_core::{demo, Agent, ToolError};
use mastra_durable::{create_durable_agent, Mastra};
use mastra_server::{serve_on, ServerConfig, Shutdown};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How long the demo model waits before each part in these tests.
pub(crate) const DEMO_DELAY: Duration = Duration::from_millis(5);

/// `demo-agent` (durable, demo tools), `plain-agent` (plain), `approval-agent` (durable,
/// its `weather` tool needs approval).
pub(crate) fn demo_mastra() -> Mastra {
    let model = demo::DemoModel::new().with_delay(DEMO_DELAY);
    let demo_agent = Agent::builder("demo-agent", model.clone())
        .instructions("You are a demo")
        .tools(demo::demo_tools())
        .build();
    let plain = Agent::builder("plain-agent", model.clone())
        .tools(demo::demo_tools())
        .build();
    let approving = Agent::builder("approval-agent", model)
        .tool(
            tool(
                "weather",
                "Weather, once a person approves",
                |input: demo::WeatherInput, _ctx: ToolContext| async move {
                    Ok::<_, ToolError>(demo::demo_weather(&input.city))
                },
            )
            .with_approval(true),
        )
        .build();
    Mastra::builder()
        .durable_agent(create_durable_agent(demo_agent))
        .agent(plain)
        .durable_agent(create_durable_agent(approving))
        .build()
        .unwrap()
}

/// Settings for tests: short heartbeat and idle time.
pub(crate) fn test_config() -> ServerConfig {
    ServerConfig::new()
        .heartbeat(Duration::from_secs(5))
        .observe_idle_timeout(Duration::from_secs(5))
}

/// A server running in this test.
pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) shutdown: Shutdown,
    pub(crate) handle: JoinHandle<std::io::Result<()>>,
    pub(crate) client: reqwest::Client,
}

impl TestServer {
    pub(crate) async fn start(mastra: Mastra, config: ServerConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api", listener.local_addr().unwrap());
        let shutdown = config.shutdown().clone();
        let handle = tokio::spawn(serve_on(listener, mastra, config, std::future::pending()));
        Self {
            base,
            shutdown,
            handle,
            client: reqwest::Client::new(),
        }
    }

    pub(crate) async fn demo() -> Self {
        Self::start(demo_mastra(), test_config()).await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// POSTs and reads the SSE body to its end.
    pub(crate) async fn post_sse(&self, path: &str, body: Value) -> Vec<Value> {
        let response = self.post(path, body).await;
        assert_eq!(response.status(), 200, "{path}");
        SseReader::new(response).data_until_done().await
    }
}

/// Reads an SSE body block by block, as `@mastra/client-js` does: split on `\n\n`.
pub(crate) struct SseReader {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    pub(crate) done: bool,
}

impl SseReader {
    pub(crate) fn new(response: reqwest::Response) -> Self {
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["cache-control"], "no-cache");
        assert_eq!(response.headers()["x-accel-buffering"], "no");
        Self {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
            done: false,
        }
    }

    /// The next whole block (without its `\n\n`), or `None` when the body ends.
    pub(crate) async fn next_block(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block = self.buffer[..end].to_owned();
                self.buffer.drain(..end + 2);
                return Some(block);
            }
            match self.body.next().await {
                Some(Ok(bytes)) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                Some(Err(error)) => panic!("body failed: {error}"),
                None => {
                    assert!(self.buffer.is_empty(), "a partial block: {:?}", self.buffer);
                    return None;
                }
            }
        }
    }

    /// The next `data:` JSON (skipping comments), `None` at `[DONE]` or the end.
    pub(crate) async fn next_data(&mut self) -> Option<Value> {
        while let Some(block) = self.next_block().await {
            let Some(data) = block.strip_prefix("data: ") else {
                assert!(block.starts_with(':'), "not a data block: {block:?}");
                continue;
            };
            if data == "[DONE]" {
                self.done = true;
                return None;
            }
            assert!(
                !data.contains('\n'),
                "a data block with extra lines: {data:?}"
            );
            return Some(serde_json::from_str(data).unwrap());
        }
        None
    }

    /// Every `data:` JSON up to `[DONE]`, which must come.
    pub(crate) async fn data_until_done(mut self) -> Vec<Value> {
        let mut items = Vec::new();
        while let Some(item) = self.next_data().await {
            items.push(item);
        }
        assert!(self.done, "the stream ended without [DONE]");
        assert_eq!(self.next_block().await, None, "blocks after [DONE]");
        items
    }
}

/// The `type` of each item.
pub(crate) fn types(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|item| item["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The text of the `text-delta` chunks.
pub(crate) fn text_of(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter(|c| c["type"] == "text-delta")
        .map(|c| c["payload"]["text"].as_str().unwrap_or_default())
        .collect()
}

/// The chunk type an envelope stands for (what `/stream` shows for it).
pub(crate) fn chunk_type_of(envelope: &Value) -> String {
    match envelope["type"].as_str().unwrap_or_default() {
        "chunk" | "step-start" => envelope["data"]["type"].as_str().unwrap().to_owned(),
        other => other.to_owned(),
    }
}
