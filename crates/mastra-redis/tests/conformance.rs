//! The shared conformance suite (checklist items 1-12 and the pubsub/cache contracts)
//! against the real Redis: `RedisPubSub` + `RedisServerCache`, unique prefixes per backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mastra_test::conformance_suite!(support::RedisBackend);
