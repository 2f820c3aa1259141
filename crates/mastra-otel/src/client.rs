//! The HTTP client the OTLP exporter posts with: the workspace's `reqwest` (rustls), driven
//! by a one-thread tokio runtime of its own, so that the SDK's export thread never needs the
//! application's runtime (which may be busy, single-threaded, or shutting down).

use crate::OtelError;
use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use std::sync::Arc;
use std::time::Duration;

/// How long one export request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub(crate) struct ExportClient {
    client: reqwest::Client,
    runtime: Arc<ExportRuntime>,
}

/// The export runtime; shut down in the background when dropped, which is allowed anywhere
/// (dropping a runtime inside another one's task is not).
#[derive(Debug)]
struct ExportRuntime(Option<tokio::runtime::Runtime>);

impl Drop for ExportRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl ExportClient {
    pub(crate) fn new() -> Result<Self, OtelError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mastra-otel-export")
            .enable_all()
            .build()
            .map_err(OtelError::Runtime)?;
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| OtelError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            runtime: Arc::new(ExportRuntime(Some(runtime))),
        })
    }
}

#[async_trait::async_trait]
impl HttpClient for ExportClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let Some(runtime) = &self.runtime.0 else {
            return Err("the export runtime is shut down".into());
        };
        let (parts, body) = request.into_parts();
        let mut outgoing = self.client.request(parts.method, parts.uri.to_string());
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name, value);
        }
        let outgoing = outgoing.body(body);
        let sent = runtime.spawn(async move {
            let response = outgoing.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        });
        let (status, headers, body) = sent.await??;
        let mut response = Response::builder().status(status);
        for (name, value) in &headers {
            response = response.header(name, value);
        }
        Ok(response.body(body)?)
    }
}
