//! Conformance suites of the two run-state stores: the evented engine's
//! [`WorkflowStore`] ([`workflow`]) and the durable agent's [`RunStore`] ([`run`]).
//!
//! A backend provides a factory that opens a fresh, empty store as several *handles*: what
//! separate processes sharing the store would hold (for Redis: one connection pool each;
//! in memory: clones of one `Arc`). The race scenarios give each racer its own handle.
//! [`workflow_store_suite!`](crate::workflow_store_suite) and
//! [`run_store_suite!`](crate::run_store_suite) expand the scenarios into tests:
//!
//! ```ignore
//! mastra_test::workflow_store_suite!(mastra_test::InMemoryStores);
//! mastra_test::run_store_suite!(mastra_test::InMemoryStores);
//! ```

pub mod run;
pub mod workflow;
pub mod workflow_enqueue;
pub mod workflow_lease;

use std::sync::Arc;

use async_trait::async_trait;
use mastra_durable::{InMemoryRunStore, RunStore};
use mastra_pubsub::{EventEmitterPubSub, InProcessLeases, LeaseProvider, PubSub};
use mastra_workflows::{InMemoryWorkflowStore, WorkflowStore};

/// Opens fresh workflow stores for the [`workflow`] scenarios.
#[async_trait]
pub trait WorkflowStoreFactory: Send + Sync {
    /// `handles` (at least 1) handles on one new, empty store.
    async fn open(&self, handles: usize) -> Vec<Arc<dyn WorkflowStore>>;

    /// As [`open`](Self::open), each handle with the run leases a deployment would use
    /// with it (for the [`workflow_lease`] scenarios). By default one in-process
    /// [`LeaseProvider`] shared by every handle; a backend that also holds leases gives
    /// each handle its own (its own connections).
    async fn open_with_leases(
        &self,
        handles: usize,
    ) -> Vec<(Arc<dyn WorkflowStore>, Arc<dyn LeaseProvider>)> {
        let leases: Arc<dyn LeaseProvider> = Arc::new(InProcessLeases::new());
        let stores = self.open(handles).await;
        stores.into_iter().map(|s| (s, leases.clone())).collect()
    }

    /// As [`open_with_leases`](Self::open_with_leases), each handle also with the queue
    /// transport a deployment would use with it (for the [`workflow_enqueue`] scenarios).
    /// By default one in-process transport shared by every handle; a backend that also
    /// queues gives each handle its own.
    async fn open_with_queue(
        &self,
        handles: usize,
    ) -> Vec<(
        Arc<dyn WorkflowStore>,
        Arc<dyn LeaseProvider>,
        Arc<dyn PubSub>,
    )> {
        let pubsub: Arc<dyn PubSub> = Arc::new(EventEmitterPubSub::new());
        let pairs = self.open_with_leases(handles).await;
        pairs
            .into_iter()
            .map(|(store, leases)| (store, leases, pubsub.clone()))
            .collect()
    }

    /// Called after each scenario (which leaves its stores empty): checks or removes what
    /// the backend keeps besides the records (nothing, by default).
    async fn close(&self) {}
}

/// Opens fresh run stores for the [`run`] scenarios.
#[async_trait]
pub trait RunStoreFactory: Send + Sync {
    /// `handles` (at least 1) handles on one new, empty store.
    async fn open(&self, handles: usize) -> Vec<Arc<dyn RunStore>>;

    /// Called after each scenario (which leaves its stores empty): checks or removes what
    /// the backend keeps besides the records (nothing, by default).
    async fn close(&self) {}
}

/// The in-memory stores (the reference behaviour).
#[derive(Debug, Clone, Copy, Default)]
pub struct InMemoryStores;

#[async_trait]
impl WorkflowStoreFactory for InMemoryStores {
    async fn open(&self, handles: usize) -> Vec<Arc<dyn WorkflowStore>> {
        let store: Arc<dyn WorkflowStore> = Arc::new(InMemoryWorkflowStore::new());
        vec![store; handles.max(1)]
    }
}

#[async_trait]
impl RunStoreFactory for InMemoryStores {
    async fn open(&self, handles: usize) -> Vec<Arc<dyn RunStore>> {
        let store: Arc<dyn RunStore> = Arc::new(InMemoryRunStore::new());
        vec![store; handles.max(1)]
    }
}

/// One `#[tokio::test]` per [`WorkflowStore`] scenario, each with a store from `$factory`
/// (an expression of a type implementing [`WorkflowStoreFactory`]).
#[macro_export]
macro_rules! workflow_store_suite {
    ($factory:expr) => {
        $crate::__store_tests!($factory; workflow; $crate::WorkflowStoreFactory;
            put_creates_and_replaces,
            save_is_fenced_by_generation,
            fence_raises_the_generation,
            generations_compare_exactly,
            cancel_requests_survive_saves,
            remove_is_fenced,
            list_names_every_run,
            data_is_stored_verbatim,
            held_is_stored_with_each_save,
            save_reading_cancel_reports_a_stored_request,
            concurrent_claimants_newest_generation_wins,
            a_superseded_owner_never_overwrites,
            cancel_racing_saves_is_kept,
        );
        $crate::__store_tests!($factory; workflow_lease; $crate::WorkflowStoreFactory;
            claim_and_load_reads_after_the_claim,
            a_stale_owner_combined_save_is_refused,
            hand_overs_lose_no_step,
        );
        $crate::__store_tests!($factory; workflow_enqueue; $crate::WorkflowStoreFactory;
            an_accepted_save_queues_one_message,
            a_refused_save_queues_nothing,
        );
    };
}

/// One `#[tokio::test]` per [`RunStore`] scenario, each with a store from `$factory` (an
/// expression of a type implementing [`RunStoreFactory`]).
#[macro_export]
macro_rules! run_store_suite {
    ($factory:expr) => {
        $crate::__store_tests!($factory; run; $crate::RunStoreFactory;
            save_creates_and_replaces,
            take_removes_the_record,
            delete_and_list,
            racing_takes_give_the_run_to_one,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __store_tests {
    ($factory:expr; $module:ident; $factory_trait:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let factory = $factory;
                $crate::stores::$module::$name(&factory).await;
                <_ as $factory_trait>::close(&factory).await;
            }
        )*
    };
}
