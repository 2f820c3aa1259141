//! Shared by the client's tests: a real `mastra_server` on 127.0.0.1:0 with the demo
//! agents, and a TCP proxy that cuts connections at random points.

#![allow(dead_code)]

pub(crate) mod proxy;

use mastra_client::{MastraClient, RetryPolicy};
use mastra_core::tool::{tool, ToolContext};
use mastra_core::{demo, Agent, ToolError};
use mastra_durable::{create_durable_agent, Mastra};
use mastra_server::{serve_on, ServerConfig, Shutdown};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

/// `demo-agent` (durable, demo tools), `plain-agent` (plain) and `approval-agent`
/// (durable, its `weather` tool needs approval), the demo model waiting `delay` per part.
pub(crate) fn demo_mastra(delay: Duration) -> Mastra {
    let model = demo::DemoModel::new().with_delay(delay);
    let demo_agent = Agent::builder("demo-agent", model.clone())
        .name("Demo Agent")
        .instructions("You are a demo")
        .tools(demo::demo_tools())
        .build();
    let plain = Agent::builder("plain-agent", model.clone()).build();
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

/// A server running in this test.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) shutdown: Shutdown,
}

impl TestServer {
    pub(crate) async fn start(delay: Duration, config: ServerConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = config.shutdown().clone();
        let mastra = demo_mastra(delay);
        tokio::spawn(serve_on(listener, mastra, config, std::future::pending()));
        Self { addr, shutdown }
    }

    pub(crate) async fn demo() -> Self {
        Self::start(Duration::from_millis(1), ServerConfig::new()).await
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn client(&self) -> MastraClient {
        MastraClient::new(&self.url())
            .unwrap()
            .with_retry(fast_retry())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// Quick reconnects for tests.
pub(crate) fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 12,
        initial_backoff: Duration::from_millis(2),
        max_backoff: Duration::from_millis(40),
    }
}

/// "1 2 ... n".
pub(crate) fn counted(n: u32) -> String {
    (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
}
