//! `RedisWorkflowStore` with the run leases and the queue of the same Redis: saving a
//! run, releasing its lease and queueing its next step are one script, so the step is
//! queued only if the save was accepted, and at no cost of a round trip of its own.

use mastra_pubsub::{LeaseProvider, PubSub};
use mastra_workflows::{Enqueue, RunLease, StoredRun, WorkflowError};

use crate::pubsub::TopicPublish;
use crate::scripts::{LEASE_FUNCTIONS, PUBLISH, WORKFLOW_FUNCTIONS};
use crate::{RedisLeases, RedisPubSub, RedisWorkflowStore};

/// Saves a workflow run and releases its lease (as `WORKFLOW_SAVE_RELEASE`), and, only
/// when the save was accepted, runs the `PUBLISH` script's body on the queue topic.
/// KEYS: the run's hash, the set of run ids, the lease, the topic's group stream. ARGV:
/// run id, generation, cancel flag, the record's JSON, owner, then the publish's five
/// arguments. Returns 1, or 0 when the save was refused (nothing queued).
///
/// A retry after a lost reply finds its own write (same generation, same record) and
/// queues nothing more: the script is safe to repeat like the store's others.
const WORKFLOW_SAVE_RELEASE_ENQUEUE: &str = r#"
local repeated = redis.call('HGET', KEYS[1], 'generation') == ARGV[2]
  and redis.call('HGET', KEYS[1], 'record') == ARGV[4]
local saved = save(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
if saved == 1 and not repeated then
  publish({KEYS[4]}, {ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]})
end
release(KEYS[3], ARGV[5])
return saved
"#;

/// The script's Lua source: the store's and the lease's functions, the unchanged `PUBLISH`
/// script as a function of its own KEYS and ARGV (so the queue message is exactly what a
/// `RedisPubSub::publish` sends), then the save.
pub(crate) fn save_release_enqueue_source() -> (String, &'static str) {
    let prelude = format!(
        "{WORKFLOW_FUNCTIONS}{LEASE_FUNCTIONS}\nlocal function publish(KEYS, ARGV)\n{PUBLISH}\nend\n"
    );
    (prelude, WORKFLOW_SAVE_RELEASE_ENQUEUE)
}

impl RedisWorkflowStore {
    /// `pubsub` as [`RedisPubSub`] when it publishes to this store's Redis (same URL, so
    /// same server and database): only then may one script write to both.
    pub(crate) fn colocated_queue<'a>(&self, pubsub: &'a dyn PubSub) -> Option<&'a RedisPubSub> {
        let redis = pubsub.as_any()?.downcast_ref::<RedisPubSub>()?;
        self.shares_redis_with(redis.url()).then_some(redis)
    }

    /// The leases and the queue of `save_release_and_enqueue` when both live in this
    /// store's Redis.
    pub(crate) fn colocated_both<'a>(
        &self,
        leases: &'a dyn LeaseProvider,
        pubsub: &'a dyn PubSub,
    ) -> Option<(&'a RedisLeases, &'a RedisPubSub)> {
        Some((self.colocated(leases)?, self.colocated_queue(pubsub)?))
    }

    /// `save_release_and_enqueue` in one script (`WORKFLOW_SAVE_RELEASE_ENQUEUE`).
    pub(crate) async fn save_release_enqueue_with(
        &self,
        (leases, queue): (&RedisLeases, &RedisPubSub),
        run: &StoredRun,
        lease: RunLease<'_>,
        next: Enqueue<'_>,
    ) -> Result<bool, WorkflowError> {
        let TopicPublish { stream, args } = queue.topic_publish(next.topic, &next.event)?;
        let (mut keys, mut script_args) = self.save_release_parts(leases, run, &lease)?;
        keys.push(stream);
        script_args.extend(args);
        self.script(|s| &s.workflow_save_release_enqueue, keys, script_args)
            .await
            .map(|(saved, _)| saved)
    }
}
