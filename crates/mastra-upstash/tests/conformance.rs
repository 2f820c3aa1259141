//! The shared conformance suite (checklist items 1-12 and the pubsub/cache contracts),
//! unchanged, against `UpstashServerCache` through the REST shim on the real Redis (with
//! the in-process pubsub for live events: the REST cache is only a cache).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mastra_test::conformance_suite!(support::UpstashBackend);
