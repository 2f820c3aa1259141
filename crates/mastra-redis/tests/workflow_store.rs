//! `RedisWorkflowStore` against the real Redis: the `WorkflowStore` conformance suite
//! (the in-memory store's behaviour, fencing races between separate connection pools
//! included; the lease scenarios with `RedisLeases` on the same Redis, folded into the
//! store's scripts, and with in-process leases, the two-call fallback), the documented
//! key layout, and clear errors for corrupt records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use mastra_pubsub::{InProcessLeases, LeaseProvider, PubSub};
use mastra_redis::{RedisLeases, RedisPubSub, RedisWorkflowStore};
use mastra_test::WorkflowStoreFactory;
use mastra_workflows::WorkflowStore;
use redis::AsyncCommands;
use support::{connect, inspector, unique_config};

/// Each `open` makes a fresh key prefix; each handle has its own connection pool, as
/// separate processes would.
#[derive(Debug, Default)]
struct RedisStores {
    prefixes: std::sync::Mutex<Vec<String>>,
}

#[async_trait]
impl WorkflowStoreFactory for RedisStores {
    async fn open(&self, handles: usize) -> Vec<Arc<dyn WorkflowStore>> {
        let config = unique_config();
        self.prefixes
            .lock()
            .unwrap()
            .push(config.key_prefix.clone());
        let mut stores: Vec<Arc<dyn WorkflowStore>> = Vec::new();
        for _ in 0..handles.max(1) {
            let store = RedisWorkflowStore::new(connect(config.clone()).await);
            stores.push(Arc::new(store));
        }
        stores
    }

    /// Each handle's leases are `RedisLeases` on its own connection pool, so the store
    /// folds them into its scripts.
    async fn open_with_leases(
        &self,
        handles: usize,
    ) -> Vec<(Arc<dyn WorkflowStore>, Arc<dyn LeaseProvider>)> {
        let config = unique_config();
        self.prefixes
            .lock()
            .unwrap()
            .push(config.key_prefix.clone());
        let mut pairs: Vec<(Arc<dyn WorkflowStore>, Arc<dyn LeaseProvider>)> = Vec::new();
        for _ in 0..handles.max(1) {
            let connection = connect(config.clone()).await;
            let leases = RedisLeases::new(connection.clone());
            pairs.push((
                Arc::new(RedisWorkflowStore::new(connection)),
                Arc::new(leases),
            ));
        }
        pairs
    }

    /// Each handle's queue is a `RedisPubSub` on its own connection pool, with its leases,
    /// so the store folds both into its save script.
    async fn open_with_queue(
        &self,
        handles: usize,
    ) -> Vec<(
        Arc<dyn WorkflowStore>,
        Arc<dyn LeaseProvider>,
        Arc<dyn PubSub>,
    )> {
        let config = unique_config();
        self.prefixes
            .lock()
            .unwrap()
            .push(config.key_prefix.clone());
        let mut handles_out: Vec<(
            Arc<dyn WorkflowStore>,
            Arc<dyn LeaseProvider>,
            Arc<dyn PubSub>,
        )> = Vec::new();
        for _ in 0..handles.max(1) {
            let connection = connect(config.clone()).await;
            let pubsub = RedisPubSub::new(connection.clone()).await.unwrap();
            handles_out.push((
                Arc::new(RedisWorkflowStore::new(connection)),
                pubsub.leases(),
                Arc::new(pubsub),
            ));
        }
        handles_out
    }

    /// The scenarios remove every run: no key of the store may be left (the leases'
    /// generation counters outlive their runs by design; they are deleted here).
    async fn close(&self) {
        let prefixes = std::mem::take(&mut *self.prefixes.lock().unwrap());
        for prefix in prefixes {
            let mut redis = inspector().await;
            for key in keys_under(&format!("{prefix}lease:")).await {
                let _: () = redis.del(key).await.unwrap();
            }
            assert!(
                keys_under(&prefix).await.is_empty(),
                "keys left under {prefix}"
            );
        }
    }
}

mod conformance {
    mastra_test::workflow_store_suite!(super::RedisStores::default());
}

/// The Redis store with leases it cannot fold into its scripts (in-process ones): the
/// lease scenarios pass through the two-call fallback.
#[derive(Debug, Default)]
struct ForeignLeases(RedisStores);

#[async_trait]
impl WorkflowStoreFactory for ForeignLeases {
    async fn open(&self, handles: usize) -> Vec<Arc<dyn WorkflowStore>> {
        self.0.open(handles).await
    }

    async fn open_with_leases(
        &self,
        handles: usize,
    ) -> Vec<(Arc<dyn WorkflowStore>, Arc<dyn LeaseProvider>)> {
        let leases: Arc<dyn LeaseProvider> = Arc::new(InProcessLeases::new());
        let stores = self.0.open(handles).await;
        stores.into_iter().map(|s| (s, leases.clone())).collect()
    }

    async fn close(&self) {
        self.0.close().await;
    }
}

mod foreign_leases {
    use mastra_test::stores::workflow_lease as scenarios;
    use mastra_test::WorkflowStoreFactory;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn claim_and_load_reads_after_the_claim() {
        let factory = super::ForeignLeases::default();
        scenarios::claim_and_load_reads_after_the_claim(&factory).await;
        factory.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stale_owner_combined_save_is_refused() {
        let factory = super::ForeignLeases::default();
        scenarios::a_stale_owner_combined_save_is_refused(&factory).await;
        factory.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hand_overs_lose_no_step() {
        let factory = super::ForeignLeases::default();
        scenarios::hand_overs_lose_no_step(&factory).await;
        factory.close().await;
    }
    /// The fallback of `save_release_and_enqueue` (in-process leases and queue).
    mod enqueue {
        use mastra_test::stores::workflow_enqueue as scenarios;
        use mastra_test::WorkflowStoreFactory;

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn an_accepted_save_queues_one_message() {
            let factory = super::super::ForeignLeases::default();
            scenarios::an_accepted_save_queues_one_message(&factory).await;
            factory.close().await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_refused_save_queues_nothing() {
            let factory = super::super::ForeignLeases::default();
            scenarios::a_refused_save_queues_nothing(&factory).await;
            factory.close().await;
        }
    }
}

/// The combined scripts address the leases where `RedisLeases` keeps them: a lease taken
/// by the store's claim is the one `RedisLeases` sees, and the other way round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_scripts_share_the_leases_keys() {
    let connection = connect(unique_config()).await;
    let store = RedisWorkflowStore::new(connection.clone());
    let leases = RedisLeases::new(connection);
    let lease = mastra_workflows::RunLease {
        leases: &leases,
        key: "workflow-run:k",
        owner: "w",
        ttl: std::time::Duration::from_secs(30),
    };
    let run = mastra_test::stores::workflow::run("k", 1, 0, "x");
    store.put(&run).await.unwrap();
    let (granted, _) = store.claim_and_load(lease, "k").await.unwrap().unwrap();
    assert_eq!(
        leases.owner("workflow-run:k").await.unwrap().as_deref(),
        Some("w")
    );
    assert!(leases
        .renew("workflow-run:k", "w", lease.ttl)
        .await
        .unwrap());
    let mut redis = inspector().await;
    let generation: u64 = redis
        .get(format!("{}:generation", leases.lease_key("workflow-run:k")))
        .await
        .unwrap();
    assert_eq!(generation, granted.generation);
    assert!(store.save_and_release(&run, lease).await.unwrap());
    assert_eq!(leases.owner("workflow-run:k").await.unwrap(), None);
    let acquired = leases
        .acquire("workflow-run:k", "v", lease.ttl)
        .await
        .unwrap();
    assert_eq!(acquired.map(|l| l.generation), Some(granted.generation + 1));
    assert!(
        store.claim_and_load(lease, "k").await.unwrap().is_none(),
        "held by v"
    );
    assert!(leases.release("workflow-run:k", "v").await.unwrap());
    assert!(store.remove("k", u64::MAX).await.unwrap());
    let _: () = redis
        .del(format!("{}:generation", leases.lease_key("workflow-run:k")))
        .await
        .unwrap();
}

async fn keys_under(prefix: &str) -> Vec<String> {
    let mut redis = inspector().await;
    let mut keys: Vec<String> = redis.keys(format!("{prefix}*")).await.unwrap();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_live_where_documented_and_leave_nothing_behind() {
    let store = RedisWorkflowStore::new(connect(unique_config()).await);
    let prefix = store.prefix().to_owned();
    assert!(prefix.ends_with(":cache:workflow:"), "{prefix}");
    let mut run = mastra_test::stores::workflow::run("run-1", 3, 2, r#"{"k":"v"}"#);
    store.put(&run).await.unwrap();
    assert!(store.request_cancel("run-1").await.unwrap());
    assert!(store.fence("run-1", 4).await.unwrap());

    let mut redis = inspector().await;
    let key = store.run_key("run-1");
    assert_eq!(key, format!("{prefix}run:run-1"));
    assert_eq!(keys_under(&prefix).await, [key.clone(), store.index_key()]);
    let fields: std::collections::HashMap<String, String> = redis.hgetall(&key).await.unwrap();
    assert_eq!(fields["generation"], "4");
    assert_eq!(fields["cancel"], "1");
    let record: serde_json::Value = serde_json::from_str(&fields["record"]).unwrap();
    assert_eq!(record["runId"], "run-1");
    assert_eq!(record["data"], r#"{"k":"v"}"#);
    let ids: Vec<String> = redis.smembers(store.index_key()).await.unwrap();
    assert_eq!(ids, ["run-1"]);
    let ttl: i64 = redis.ttl(&key).await.unwrap();
    assert_eq!(ttl, -1, "run state never expires");

    run.generation = 4;
    run.cancel_requested = true;
    assert_eq!(store.load("run-1").await.unwrap(), Some(run));
    assert!(store.remove("run-1", 4).await.unwrap());
    assert!(
        keys_under(&prefix).await.is_empty(),
        "the set goes with its last run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_records_give_clear_errors() {
    let store = RedisWorkflowStore::new(connect(unique_config()).await);
    let mut redis = inspector().await;
    let key = store.run_key("bad");
    let _: () = redis
        .hset_multiple(
            &key,
            &[
                ("record", "{not json"),
                ("generation", "1"),
                ("cancel", "0"),
            ],
        )
        .await
        .unwrap();
    let error = store.load("bad").await.unwrap_err();
    assert!(error.to_string().contains("encoding"), "{error}");

    let _: () = redis.del(&key).await.unwrap();
    let _: () = redis.hset(&key, "generation", "1").await.unwrap();
    let error = store.load("bad").await.unwrap_err();
    assert!(error.to_string().contains("incomplete"), "{error}");

    let run = mastra_test::stores::workflow::run("bad", 1, 0, "x");
    let _: () = redis
        .hset_multiple(
            &key,
            &[
                ("record", serde_json::to_string(&run).unwrap().as_str()),
                ("generation", "-3"),
            ],
        )
        .await
        .unwrap();
    let error = store.load("bad").await.unwrap_err();
    assert!(error.to_string().contains("corrupt generation"), "{error}");

    // A key of another type: a clear store error, not a panic.
    let _: () = redis.del(&key).await.unwrap();
    let _: () = redis.set(&key, "a string").await.unwrap();
    let error = store.load("bad").await.unwrap_err();
    assert!(error.to_string().contains("WRONGTYPE"), "{error}");
    let error = store.save(&run).await.unwrap_err();
    assert!(error.to_string().contains("WRONGTYPE"), "{error}");
    let _: () = redis.del(&key).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_from_a_url() {
    let store = RedisWorkflowStore::from_url(support::redis_url())
        .await
        .unwrap();
    assert_eq!(store.prefix(), "mastra:cache:workflow:");
    let error = RedisWorkflowStore::from_url("http://nope")
        .await
        .unwrap_err();
    assert!(!error.is_retryable(), "{error}");
}

/// The combined script (only it: the separate calls would publish again) recognises its
/// own write when it runs a second time, as a retry after a lost reply does: the save is
/// accepted again and the message is not queued twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_combined_save_queues_once() {
    let connection = connect(unique_config()).await;
    let store = RedisWorkflowStore::new(connection.clone());
    let pubsub = RedisPubSub::new(connection).await.unwrap();
    let leases = pubsub.leases();
    let mut member = pubsub.subscribe_group("q", "g").await.unwrap();
    let lease = mastra_workflows::RunLease {
        leases: &*leases,
        key: "workflow-run:k",
        owner: "w",
        ttl: std::time::Duration::from_secs(30),
    };
    store
        .put(&mastra_test::stores::workflow::run("k", 0, 0, "x"))
        .await
        .unwrap();
    let (granted, _) = store.claim_and_load(lease, "k").await.unwrap().unwrap();
    let run = mastra_test::stores::workflow::run("k", granted.generation, 1, "y");
    for _ in 0..2 {
        let next = mastra_workflows::Enqueue {
            pubsub: &pubsub,
            topic: "q",
            event: mastra_pubsub::Event::new(
                mastra_pubsub::EventType::Other("step".into()),
                "k",
                serde_json::json!({}),
            ),
        };
        assert!(store
            .save_release_and_enqueue(&run, lease, next)
            .await
            .unwrap());
    }
    let wait = std::time::Duration::from_millis(500);
    let first = tokio::time::timeout(wait, member.next()).await.unwrap();
    first.unwrap().ack().await.unwrap();
    let second = tokio::time::timeout(wait, member.next()).await;
    assert!(second.is_err(), "queued twice");
    assert_eq!(leases.owner("workflow-run:k").await.unwrap(), None);
    drop(member);
    pubsub.clear_topic("q").await.unwrap();
    assert!(store.remove("k", u64::MAX).await.unwrap());
    let mut redis = inspector().await;
    let _: () = redis
        .del(format!("{}:generation", leases.lease_key("workflow-run:k")))
        .await
        .unwrap();
}
