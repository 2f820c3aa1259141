//! What can go wrong setting up or flushing the export.

/// An error of `mastra-otel`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtelError {
    /// The configuration is unusable (an endpoint that is not a URL, ...).
    #[error("invalid OpenTelemetry configuration: {0}")]
    Config(String),
    /// The exporter's own thread could not be started.
    #[error("cannot start the span export runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A global tracing subscriber is installed already.
    #[error("a global tracing subscriber is already installed")]
    SubscriberInstalled,
    /// The SDK could not flush or shut down the export.
    #[error("span export failed: {0}")]
    Export(String),
}
