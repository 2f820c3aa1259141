//! The workflow store: fenced writes of a run's record, and the steps that also take or
//! give back the run's lease (one round trip each).

/// Lua functions prepended to the workflow-store scripts.
///
/// `le(a, b)`: exact `a <= b` for two generations written as canonical decimal strings
/// (a u64 does not fit a Lua number without loss). `save(hash, ids, run id, generation,
/// cancel, record)`: replaces the run's record when the run exists and its generation is
/// not newer, keeping a stored cancel request; 1, or 0 when refused.
pub(crate) const WORKFLOW_FUNCTIONS: &str = r#"
local function le(a, b)
  if #a ~= #b then return #a < #b end
  return a <= b
end
local function save(hash, ids, run_id, generation, cancel, record)
  local stored = redis.call('HGET', hash, 'generation')
  if not stored or not le(stored, generation) then return 0 end
  if redis.call('HGET', hash, 'cancel') == '1' then cancel = '1' end
  redis.call('HSET', hash, 'generation', generation, 'cancel', cancel, 'record', record)
  redis.call('SADD', ids, run_id)
  return 1
end
"#;

/// Creates or replaces a workflow run. KEYS: the run's hash, the set of run ids.
/// ARGV: run id, generation, cancel flag (`0`/`1`), the record's JSON.
pub(crate) const WORKFLOW_PUT: &str = r#"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'generation', ARGV[2], 'cancel', ARGV[3], 'record', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"#;

/// Replaces a workflow run when it exists and its generation is not newer than ARGV[2];
/// a stored cancel request is kept. KEYS and ARGV as [`WORKFLOW_PUT`]. Returns 1, or 0
/// when refused. After [`WORKFLOW_FUNCTIONS`].
pub(crate) const WORKFLOW_SAVE: &str = r#"
return save(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
"#;

/// Saves a workflow run as [`WORKFLOW_SAVE`] and reads its cancel flag: 0 when refused,
/// 1 when saved, 2 when saved and a cancel request is stored. KEYS and ARGV as
/// [`WORKFLOW_PUT`]. After [`WORKFLOW_FUNCTIONS`].
pub(crate) const WORKFLOW_SAVE_READ_CANCEL: &str = r#"
if save(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'cancel') == '1' then return 2 end
return 1
"#;

/// Raises a workflow run's generation to ARGV[1]. KEYS: the run's hash. Returns 1, or 0
/// when the run is missing or already newer. After [`WORKFLOW_FUNCTIONS`].
pub(crate) const WORKFLOW_FENCE: &str = r#"
local stored = redis.call('HGET', KEYS[1], 'generation')
if not stored or not le(stored, ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'generation', ARGV[1])
return 1
"#;

/// Marks a workflow run as to be cancelled. KEYS: the run's hash. Returns 1, or 0 when
/// the run is missing.
pub(crate) const WORKFLOW_CANCEL: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'cancel', '1')
return 1
"#;

/// Removes a workflow run unless a generation newer than ARGV[2] owns it. KEYS: the
/// run's hash, the set of run ids. ARGV: run id, generation. Returns 1, or 0 when
/// refused or missing. After [`WORKFLOW_FUNCTIONS`].
pub(crate) const WORKFLOW_REMOVE: &str = r#"
local stored = redis.call('HGET', KEYS[1], 'generation')
if not stored or not le(stored, ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
"#;

/// Claims a run's lease (as [`LEASE_ACQUIRE`](super::LEASE_ACQUIRE)) and, once granted,
/// reads the run's hash (as `RedisWorkflowStore::load`): the state is read after the
/// claim, in one round trip. KEYS: the lease, its generation, the run's hash. ARGV:
/// owner, TTL ms, generation TTL ms. Returns nil when another owner holds the lease, else
/// `{generation, record, stored generation, cancel}` (missing fields as nil). After
/// [`LEASE_FUNCTIONS`](super::LEASE_FUNCTIONS).
pub(crate) const WORKFLOW_CLAIM_LOAD: &str = r#"
local generation = acquire(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
if not generation then
  return nil
end
local fields = redis.call('HMGET', KEYS[3], 'record', 'generation', 'cancel')
return {generation, fields[1], fields[2], fields[3]}
"#;

/// Saves a workflow run (as [`WORKFLOW_SAVE`]), then releases its lease when ARGV[5]
/// holds it, whatever the save's answer: one round trip where there were two. KEYS: the
/// run's hash, the set of run ids, the lease. ARGV: run id, generation, cancel flag, the
/// record's JSON, owner. Returns 1, or 0 when the save was refused. After
/// [`WORKFLOW_FUNCTIONS`] and [`LEASE_FUNCTIONS`](super::LEASE_FUNCTIONS).
pub(crate) const WORKFLOW_SAVE_RELEASE: &str = r#"
local saved = save(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
release(KEYS[3], ARGV[5])
return saved
"#;
