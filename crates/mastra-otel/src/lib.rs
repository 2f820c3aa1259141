//! Optional OpenTelemetry export of mastra's `tracing` spans, over OTLP/HTTP (protobuf).
//!
//! mastra's crates emit `tracing` spans and know nothing of OpenTelemetry: `agent.run` (one
//! per stretch of a run executed in one place), `agent.model_step`, `agent.tool_call` (with
//! `run_id`, `step` and, for fenced engines, `generation`), `workflow.step` (a worker taking
//! a queued step). Each run span carries the run's `traceparent`, kept in the run's state;
//! this crate's [`layer`] exports the spans and maps that field to the OpenTelemetry parent,
//! so that every stretch of a run (after a resume, a recovery, in another process) lands in
//! one trace. A run started inside a traced request joins the request's trace.
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), mastra_otel::OtelError> {
//! // OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318, OTEL_SERVICE_NAME=my-agents
//! let otel = mastra_otel::install(&mastra_otel::OtelConfig::from_env()?)?;
//! // ... run agents ...
//! otel.shutdown().await?; // exports what is still buffered
//! # Ok(()) }
//! ```
//!
//! To combine it with other layers (a `fmt` layer, filters), take [`layer`] instead of
//! [`install`]. In the `mastra` facade this crate is `mastra::otel`, behind feature `otel`.

mod client;
mod config;
mod context;
mod error;

pub use config::{OtelConfig, DEFAULT_ENDPOINT};
pub use context::{format_traceparent, parse_traceparent};
pub use error::OtelError;

use mastra_core::agent::trace::{install_hooks, TraceHooks};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use std::fmt;
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The tracing layer that exports spans.
pub type OtelLayer<S> = OpenTelemetryLayer<S, SdkTracer>;

/// A layer exporting spans to the collector `config` names, and the guard that flushes it.
/// Also installs the `traceparent` hooks of `mastra_core::agent::trace` (once per process).
/// It exports every span it sees: give it a filter (`layer.with_filter(LevelFilter::INFO)`,
/// as [`install`] does) unless every span should go out.
pub fn layer<S>(config: &OtelConfig) -> Result<(OtelLayer<S>, OtelGuard), OtelError>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let exporter = SpanExporter::builder()
        .with_http()
        .with_http_client(client::ExportClient::new()?)
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(config.traces_url())
        .build()
        .map_err(|e| OtelError::Config(e.to_string()))?;
    let resource = Resource::builder()
        .with_service_name(config.service().to_owned())
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("mastra");
    install_hooks(TraceHooks {
        follow: context::follow,
        current: context::current,
    });
    let layer = tracing_opentelemetry::layer().with_tracer(tracer);
    Ok((layer, OtelGuard { provider }))
}

/// Installs a global subscriber exporting spans of level INFO and above.
pub fn install(config: &OtelConfig) -> Result<OtelGuard, OtelError> {
    let (layer, guard) = layer(config)?;
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO));
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|_| OtelError::SubscriberInstalled)?;
    Ok(guard)
}

/// Flushes and shuts the export down. Spans still buffered when the process exits are lost
/// unless [`shutdown`](Self::shutdown) (or [`flush`](Self::flush)) ran.
#[derive(Clone)]
pub struct OtelGuard {
    provider: SdkTracerProvider,
}

impl fmt::Debug for OtelGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelGuard").finish_non_exhaustive()
    }
}

impl OtelGuard {
    /// Exports every finished span now.
    pub async fn flush(&self) -> Result<(), OtelError> {
        let provider = self.provider.clone();
        blocking(move || provider.force_flush()).await
    }

    /// Exports what is buffered and stops exporting.
    pub async fn shutdown(self) -> Result<(), OtelError> {
        let provider = self.provider;
        blocking(move || provider.shutdown()).await
    }
}

/// Runs a blocking SDK call off the async workers (it waits for the export thread).
async fn blocking(
    call: impl FnOnce() -> opentelemetry_sdk::error::OTelSdkResult + Send + 'static,
) -> Result<(), OtelError> {
    let result = match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(call)
            .await
            .map_err(|e| OtelError::Export(e.to_string()))?,
        Err(_) => call(),
    };
    result.map_err(|e| OtelError::Export(e.to_string()))
}
