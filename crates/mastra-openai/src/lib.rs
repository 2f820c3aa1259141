//! # mastra-openai
//!
//! A [`LanguageModel`](mastra_core::LanguageModel) for any server that speaks OpenAI's streaming
//! Chat Completions API: OpenAI itself, and Ollama, vLLM, llama.cpp's server, OpenRouter or
//! LM Studio through their OpenAI-compatible endpoints.
//!
//! Give an [`OpenAiModel`] to an agent like any other model:
//!
//! ```no_run
//! use mastra_core::{Agent, StreamOptions};
//! use mastra_openai::OpenAiModel;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // OPENAI_API_KEY, and OPENAI_BASE_URL for another server.
//! let model = OpenAiModel::from_env("gpt-4o-mini")?;
//! let agent = Agent::builder("assistant", model)
//!     .instructions("You are a helpful assistant")
//!     .build();
//! let output = agent.generate("Say hello", StreamOptions::new()).await?;
//! println!("{} ({} tokens)", output.text, output.usage.total_tokens);
//! # Ok(())
//! # }
//! ```
//!
//! A local server needs no key; everything else has a builder setting:
//!
//! ```
//! use mastra_core::LanguageModel;
//! use mastra_openai::OpenAiModel;
//! use std::time::Duration;
//!
//! let model = OpenAiModel::builder("llama3.2")
//!     .base_url("http://localhost:11434/v1")
//!     .provider_name("ollama")
//!     .max_retries(3)
//!     .retry_base_delay(Duration::from_millis(200))
//!     .build()
//!     .unwrap();
//! assert_eq!((model.provider(), model.model_id()), ("ollama", "llama3.2"));
//! ```
//!
//! ## What it does
//!
//! - Requests `POST {base_url}/chat/completions` with `stream: true` and
//!   `stream_options.include_usage`, mapping system, user (text and images), assistant (text
//!   and `tool_calls`) and tool-result messages, tools, `tool_choice` and sampling settings.
//! - Streams text, reasoning (`reasoning_content` / `reasoning`), tool calls (start, argument
//!   deltas, complete call) and one `Finish` with the finish reason and token usage.
//! - Retries 408/409/429/5xx answers and connection failures with exponential backoff or the
//!   server's `Retry-After`, but never once streaming has begun.
//! - Errors are [`ModelError`](mastra_core::ModelError)s that carry the provider's message and
//!   say whether they are retryable. The request's abort signal stops the call at any point;
//!   dropping the stream closes the connection.
//!
//! This crate has no feature flags.

mod config;
mod error;
mod model;
mod request;
mod response;
mod retry;
mod sse;
mod stream;

pub use config::{OpenAiConfig, DEFAULT_BASE_URL};
pub use model::OpenAiModel;
