//! Cooperative cancellation shared by the agent loop, models and tools.

use tokio_util::sync::CancellationToken;

/// A cloneable abort signal. Aborting one clone aborts them all; a [`child`](Self::child)
/// is aborted with its parent but can also be aborted on its own.
#[derive(Debug, Clone, Default)]
pub struct AbortSignal {
    token: CancellationToken,
}

impl AbortSignal {
    /// A fresh signal that is not aborted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests cancellation of everything holding this signal or one of its children.
    pub fn abort(&self) {
        self.token.cancel();
    }

    /// Whether [`abort`](Self::abort) was called on this signal or a parent.
    pub fn is_aborted(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Completes once the signal is aborted (immediately if it already is).
    pub async fn aborted(&self) {
        self.token.cancelled().await;
    }

    /// A signal aborted together with this one, which may also be aborted alone.
    pub fn child(&self) -> Self {
        Self {
            token: self.token.child_token(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn child_follows_parent_but_not_the_reverse() {
        let parent = AbortSignal::new();
        let child = parent.child();
        child.child().abort();
        assert!(!parent.is_aborted());
        let other = parent.child();
        parent.abort();
        assert!(other.is_aborted());
        other.aborted().await;
    }
}
