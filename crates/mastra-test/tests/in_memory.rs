//! The conformance suite against the in-memory backends (`EventEmitterPubSub` with a small
//! live capacity, so lag and catch-up run too, and `InMemoryServerCache`).

mastra_test::conformance_suite!(mastra_test::InMemoryBackend::new());

/// The same scenarios with a live capacity large enough that nobody lags in the hand-off
/// scenarios, so the plain paths are covered as well.
mod roomy {
    mastra_test::conformance_suite!(mastra_test::InMemoryBackend::with_live_capacity(8_192));
}
