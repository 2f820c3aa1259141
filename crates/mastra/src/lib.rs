//! # mastra
//!
//! Durable AI agents with resumable streams, in Rust. This crate only re-exports the
//! `mastra-*` crates under module paths that mirror upstream Mastra's package split:
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`core`] | `mastra-core` | agents, messages, chunks, the `LanguageModel` and `Tool` contracts, built-in models |
//! | [`pubsub`] | `mastra-pubsub` | the event envelope, the `PubSub` and lease contracts, `EventEmitterPubSub` |
//! | [`cache`] | `mastra-cache` | the `ServerCache` contract and `InMemoryServerCache` |
//! | [`durable`] | `mastra-durable` | durable agents (`create_durable_agent`), resumable streams, the `Mastra` registry, execution engines |
//! | [`openai`] | `mastra-openai` (feature `openai`, on by default) | OpenAI-compatible provider |
//! | `redis` | `mastra-redis` (feature `redis`) | Redis cache, pubsub and leases for multi-process runs |
//! | `server` | `mastra-server` (feature `server`) | the HTTP edge: upstream's agent routes over axum, resumable SSE |
//! | `inngest` | `mastra-inngest` (feature `inngest`) | the Inngest SDK protocol: a serve endpoint with memoized steps, signatures, sync and events |
//! | `client` | `mastra-client` (feature `client`) | a Rust client of the agent routes, with streams that resume by themselves |
//! | `otel` | `mastra-otel` (feature `otel`) | OpenTelemetry export of the run spans over OTLP/HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`), one trace per run |
//! | `upstash` | `mastra-upstash` (feature `upstash`) | Upstash: `rediss://` settings for the Redis backends, and a run-log cache over its REST API |
//! | `workflows` | `mastra-workflows` (feature `workflows`) | the evented workflow engine: `create_evented_agent`, workers, crash recovery and fencing |
//!
//! ```
//! use futures::StreamExt;
//! use mastra::core::{demo, Agent};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let agent = Agent::builder("assistant", demo::DemoModel::new())
//!     .instructions("You are a helpful assistant")
//!     .tools(demo::demo_tools())
//!     .build();
//! let output = agent.generate("count to 3", Default::default()).await.unwrap();
//! assert_eq!(output.text, "1 2 3");
//!
//! // The same agent, durable: its runs are logged and can be observed from any index.
//! let durable = mastra::durable::create_durable_agent(agent).build();
//! let stream = durable.stream("count to 3", Default::default()).await.unwrap();
//! let run_id = stream.run_id().to_owned();
//! assert_eq!(stream.output().await.unwrap().text, "1 2 3");
//! let replayed: Vec<_> = durable.observe(&run_id, 0).await.unwrap().collect().await;
//! assert!(replayed.last().unwrap().as_ref().unwrap().is_terminal());
//! # }
//! ```

pub use mastra_cache as cache;
#[cfg(feature = "client")]
pub use mastra_client as client;
pub use mastra_core as core;
pub use mastra_durable as durable;
#[cfg(feature = "inngest")]
pub use mastra_inngest as inngest;
#[cfg(feature = "openai")]
pub use mastra_openai as openai;
#[cfg(feature = "otel")]
pub use mastra_otel as otel;
pub use mastra_pubsub as pubsub;
#[cfg(feature = "redis")]
pub use mastra_redis as redis;
#[cfg(feature = "server")]
pub use mastra_server as server;
#[cfg(feature = "upstash")]
pub use mastra_upstash as upstash;
#[cfg(feature = "workflows")]
pub use mastra_workflows as workflows;
