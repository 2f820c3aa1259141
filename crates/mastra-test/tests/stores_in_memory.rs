//! The run-state store suites against the in-memory stores (the reference behaviour).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod workflow_store {
    mastra_test::workflow_store_suite!(mastra_test::InMemoryStores);
}

mod run_store {
    mastra_test::run_store_suite!(mastra_test::InMemoryStores);
}
