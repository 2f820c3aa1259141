//! Conformance suites and test doubles shared by every backend (not part of the public API).
//!
//! Each backend of the pubsub and cache contracts (in-memory here, Redis in its own crate)
//! must behave the same. The scenarios live in [`conformance`] as async functions over a
//! [`BackendFactory`]; [`conformance_suite!`] expands them into `#[tokio::test]`s, plus the
//! reconnect property test. A backend crate runs the whole suite with:
//!
//! ```ignore
//! mod in_memory {
//!     mastra_test::conformance_suite!(mastra_test::InMemoryBackend::new());
//! }
//! ```
//!
//! The invoking crate needs `tokio` (with `macros` and `rt-multi-thread`) as a
//! dev-dependency. Every scenario uses its own topics and keys (`unique_topic`), so one
//! shared server can run them all in parallel. A single scenario can also be run by hand:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let backend = mastra_test::InMemoryBackend::new();
//! mastra_test::conformance::log::subscribe_from_offset_is_inclusive(&backend).await;
//! # }
//! ```
//!
//! Checklist items (shared/spec/parity-checklist.md) to scenarios:
//!
//! | item | scenarios |
//! |---|---|
//! | 1 | `log::indices_are_zero_based_and_sequential` |
//! | 2 | `log::index_survives_restart_and_resets_on_clear` |
//! | 3 | `log::uncached_events_get_no_index_but_flow_live` |
//! | 4 | `live::plain_subscribe_is_live_only`, `live::replay_delivers_history_then_live`, `ending::terminal_events_end_every_observer` |
//! | 5 | `live::event_published_during_setup_is_delivered_once`, `property::reconnect_anywhere_loses_nothing` |
//! | 6 | `log::subscribe_from_offset_is_inclusive` |
//! | 7 | `log::late_subscriber_gets_full_history_with_finish` |
//! | 8 | `log::subscribers_are_independent_and_topics_isolated` |
//! | 9 | `log::resubscribing_from_next_offset_loses_nothing`, `property::reconnect_anywhere_loses_nothing` |
//! | 10 | `ttl::*` |
//! | 11 | `ending::unknown_cleared_or_expired_runs_end_promptly`, `ending::idle_observer_ends_with_a_timeout` |
//! | 12 | `live::slow_observer_catches_up_from_the_log`, `live::slow_plain_subscriber_is_told_what_it_missed` |
//!
//! The `cache::*` and `transport::*` scenarios prove the two contracts themselves.
//!
//! The run-state stores (the evented engine's `WorkflowStore`, the durable agent's
//! `RunStore`) have suites of their own in [`stores`]: [`workflow_store_suite!`] and
//! [`run_store_suite!`].

// A test-support crate: failing loudly is its job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod backend;
pub mod conformance;
pub mod hooks;
pub mod redis_server;
pub mod stores;
pub mod support;
pub mod tls;

pub use backend::{Backend, BackendFactory, CacheSettings, InMemoryBackend};
pub use stores::{InMemoryStores, RunStoreFactory, WorkflowStoreFactory};

/// How many random schedules the reconnect property test runs in the suite.
pub const PROPERTY_CASES: u32 = 64;

/// Expands into one `#[tokio::test]` per conformance scenario (and a `#[test]` for the
/// reconnect property), each running against backends from `$factory` (an expression,
/// evaluated once per test, of a type implementing [`BackendFactory`]).
#[macro_export]
macro_rules! conformance_suite {
    ($factory:expr) => {
        $crate::__conformance_tests!($factory;
            log::indices_are_zero_based_and_sequential,
            log::index_survives_restart_and_resets_on_clear,
            log::uncached_events_get_no_index_but_flow_live,
            log::subscribe_from_offset_is_inclusive,
            log::late_subscriber_gets_full_history_with_finish,
            log::subscribers_are_independent_and_topics_isolated,
            log::resubscribing_from_next_offset_loses_nothing,
            live::plain_subscribe_is_live_only,
            live::replay_delivers_history_then_live,
            live::event_published_during_setup_is_delivered_once,
            live::slow_observer_catches_up_from_the_log,
            live::slow_plain_subscriber_is_told_what_it_missed,
            ending::terminal_events_end_every_observer,
            ending::unknown_cleared_or_expired_runs_end_promptly,
            ending::idle_observer_ends_with_a_timeout,
            ttl::entries_expire_after_their_ttl,
            ttl::an_append_refreshes_the_ttl,
            ttl::ttl_zero_never_expires,
            ttl::the_oldest_key_is_evicted_at_the_cap,
            ttl::expired_history_replays_nothing_and_live_flows,
            cache::values_round_trip_and_delete,
            cache::clear_removes_everything,
            cache::list_ranges_are_inclusive,
            cache::concurrent_appends_get_their_positions,
            cache::wrong_kinds_are_refused,
            cache::batch_appends_continue_the_log,
            cache::concurrent_batches_stay_contiguous,
            transport::fan_out_reaches_every_subscriber,
            transport::groups_get_one_delivery_each,
            transport::nack_redelivers_with_the_next_attempt,
            transport::dropping_a_subscription_unsubscribes,
            transport::leases_give_one_owner_at_a_time,
        );

        #[test]
        fn reconnect_anywhere_loses_nothing() {
            let factory = $factory;
            $crate::conformance::property::reconnect_anywhere_loses_nothing(
                &factory,
                $crate::PROPERTY_CASES,
            );
        }

        #[test]
        fn reconnect_anywhere_loses_nothing_pipelined() {
            let factory = $factory;
            $crate::conformance::property::reconnect_anywhere_loses_nothing_pipelined(
                &factory,
                $crate::PROPERTY_CASES,
            );
        }

        #[test]
        fn pipelined_writes_keep_order_for_a_late_observer() {
            let factory = $factory;
            $crate::conformance::pipelined::pipelined_writes_keep_order_for_a_late_observer(
                &factory,
                $crate::PROPERTY_CASES,
            );
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($factory:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let factory = $factory;
                $crate::conformance::$module::$name(&factory).await;
            }
        )*
    };
}
