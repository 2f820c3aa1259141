//! The scenarios every pubsub + cache backend must pass, as generic async functions that
//! take a [`BackendFactory`](crate::BackendFactory). [`conformance_suite!`](crate::conformance_suite)
//! turns them into tests.

pub mod cache;
pub mod ending;
pub mod live;
pub mod log;
pub mod pipelined;
pub mod property;
pub mod transport;
pub mod ttl;
