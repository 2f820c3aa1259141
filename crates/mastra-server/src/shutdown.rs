//! Graceful shutdown: a handle that ends open SSE responses, and the SIGTERM / Ctrl-C signal.
//!
//! Shutting the server down stops accepting connections and ends every open SSE response
//! (without `[DONE]`, so a client knows it did not see the end and can observe the run again
//! from its next index). Durable runs are not touched: they go on and stay observable.

use std::future::Future;
use tokio_util::sync::CancellationToken;

/// Ends a server's open SSE responses. Cheap to clone; clones share one state.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ends every open SSE response of the servers sharing this handle.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once [`trigger`](Self::trigger) was called.
    pub fn triggered(&self) -> impl Future<Output = ()> + Send + 'static {
        self.token.clone().cancelled_owned()
    }
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix. If a signal handler cannot be installed, that
/// signal is ignored (logged) rather than shutting the server down at once.
pub async fn termination_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn clones_share_the_trigger() {
        let shutdown = Shutdown::new();
        let waiter = shutdown.triggered();
        shutdown.clone().trigger();
        waiter.await;
        assert!(shutdown.is_triggered());
    }
}
