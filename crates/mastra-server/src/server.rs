//! Putting it together: the router with its layers, and serving it until shutdown.

use crate::auth::require_token;
use crate::config::{Cors, ServerConfig};
use crate::routes::{api_routes, AppState};
use crate::shutdown::termination_signal;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::from_fn_with_state;
use axum::Router;
use mastra_durable::Mastra;
use std::future::Future;
use std::sync::Arc;
use tokio::net::{TcpListener, ToSocketAddrs};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::trace::TraceLayer;

/// The `/api` routes of wire-contract §6 for the agents of `mastra` (and the chat page at
/// `/`, which needs no token: it only holds HTML), with authentication,
/// the body limit, CORS and request tracing. Triggering `config.shutdown()` ends its open
/// SSE responses.
pub fn router(mastra: Mastra, config: ServerConfig) -> Router {
    let tokens = Arc::new(config.tokens.clone());
    let body_limit = config.body_limit;
    let cors = cors_layer(&config.cors);
    let api = api_routes(AppState::new(mastra, config))
        .layer(from_fn_with_state(tokens, require_token))
        .layer(DefaultBodyLimit::max(body_limit));
    let app = Router::new()
        .route("/", axum::routing::get(crate::page::index))
        .nest("/api", api)
        .layer(TraceLayer::new_for_http());
    match cors {
        Some(cors) => app.layer(cors),
        None => app,
    }
}

fn cors_layer(cors: &Cors) -> Option<CorsLayer> {
    let origins = match cors {
        Cors::Disabled => return None,
        Cors::Any => AllowOrigin::from(Any),
        Cors::Origins(origins) => AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("last-event-id"),
            ]),
    )
}

/// Serves the agents of `mastra` on `addr` until SIGTERM or Ctrl-C, then shuts down
/// gracefully (see [`serve_on`]).
pub async fn serve(
    mastra: Mastra,
    addr: impl ToSocketAddrs,
    config: ServerConfig,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "mastra server listening");
    serve_on(listener, mastra, config, termination_signal()).await
}

/// Serves on `listener` until `signal` resolves or `config.shutdown()` is triggered. Then it
/// stops accepting connections, ends every open SSE response (durable runs go on, and can
/// be observed again later), and returns once the open requests have finished.
pub async fn serve_on(
    listener: TcpListener,
    mastra: Mastra,
    config: ServerConfig,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shutdown = config.shutdown.clone();
    let app = router(mastra, config);
    let stop = async move {
        tokio::select! {
            () = signal => shutdown.trigger(),
            () = shutdown.triggered() => {}
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
}
