//! The Lua scripts: each makes one multi-key step atomic and costs one round trip
//! (`EVALSHA`, loading the script on `NOSCRIPT`).

use fred::clients::Client;
use fred::error::Error as FredError;
use fred::types::scripts::Script;
use fred::types::{MultipleKeys, MultipleValues, Value};

/// Appends to a run log. KEYS: the list, its `:counter`. ARGV: the entry's body (what
/// follows its `{`), the TTL in ms (0 = none), and `1` on a retry.
///
/// The index is the list's length, written as the entry's first field so the log reads
/// like upstream's; the counter is set to the new length, so a Node writer that allocates
/// from it continues at the right index. On a retry, an entry whose body equals the last
/// one was already appended by the attempt that lost its reply: its index is returned.
pub(crate) const APPEND: &str = r#"
local len = redis.call('LLEN', KEYS[1])
local body = ARGV[1]
local function stored(index)
  if string.sub(body, 1, 1) == '}' then
    return '{"index":' .. index .. '}'
  end
  return '{"index":' .. index .. ',' .. body
end
if ARGV[3] == '1' and len > 0 and redis.call('LINDEX', KEYS[1], -1) == stored(len - 1) then
  return len - 1
end
redis.call('RPUSH', KEYS[1], stored(len))
redis.call('SET', KEYS[2], len + 1)
if ARGV[2] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
else
  redis.call('PERSIST', KEYS[1])
end
return len
"#;

/// Appends a batch to a run log in one step. KEYS: the list, its `:counter`. ARGV: the TTL
/// in ms (0 = none), `1` on a retry, then each entry's body (what follows its `{`).
///
/// Each entry is stored exactly as [`APPEND`] stores it, at consecutive positions, and the
/// first position is returned (the length for an empty batch, which writes nothing). On a
/// retry, a batch whose first and last entries already sit at the last positions was
/// appended by the attempt that lost its reply: its first position is returned. Entries
/// carry unique event ids, so this cannot mistake another batch for this one.
pub(crate) const APPEND_BATCH: &str = r#"
local len = redis.call('LLEN', KEYS[1])
local n = #ARGV - 2
if n <= 0 then
  return len
end
local function stored(index, body)
  if string.sub(body, 1, 1) == '}' then
    return '{"index":' .. index .. '}'
  end
  return '{"index":' .. index .. ',' .. body
end
if ARGV[2] == '1' and len >= n
  and redis.call('LINDEX', KEYS[1], -1) == stored(len - 1, ARGV[n + 2])
  and redis.call('LINDEX', KEYS[1], len - n) == stored(len - n, ARGV[3]) then
  return len - n
end
-- RPUSH a bounded number of entries per call: unpack() has a stack limit.
local chunk = {}
for i = 1, n do
  chunk[#chunk + 1] = stored(len + i - 1, ARGV[i + 2])
  if #chunk == 500 or i == n then
    redis.call('RPUSH', KEYS[1], unpack(chunk))
    chunk = {}
  end
end
redis.call('SET', KEYS[2], len + n)
if ARGV[1] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
else
  redis.call('PERSIST', KEYS[1])
end
return len
"#;

/// Publishes one event. KEYS: the topic's group stream. ARGV: fan-out channel, event
/// JSON, stream cap, wake channel, stream TTL ms. The stream exists only while the topic
/// has consumer groups, so topics without groups cost one `PUBLISH`.
pub(crate) const PUBLISH: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('PUBLISH', ARGV[4], 'new')
end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
"#;

/// Hands pending group messages back (nack, or a member leaving). KEYS: the stream.
/// ARGV: group, consumer, idle ms to set, wake channel, then the message ids. The
/// messages stay pending but look idle past the claim timeout, so the next member that
/// reclaims (woken at once) takes them, and the claim counts as one more delivery.
pub(crate) const RELEASE: &str = r#"
for i = 5, #ARGV do
  pcall(redis.call, 'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
end
redis.call('PUBLISH', ARGV[4], 'released')
return #ARGV - 4
"#;

/// Takes over group messages idle for at least ARGV[3] ms. KEYS: the stream. ARGV:
/// group, consumer, min idle ms, count. Returns `[id, fields, deliveries]` triples.
pub(crate) const RECLAIM: &str = r#"
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])
local out = {}
for _, entry in ipairs(claimed[2]) do
  if type(entry[2]) == 'table' then
    local pending = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
    local deliveries = 1
    if pending[1] then deliveries = pending[1][4] end
    table.insert(out, {entry[1], entry[2], deliveries})
  end
end
return out
"#;

/// Claims a lease. KEYS: the lease, its generation. ARGV: owner, TTL ms, generation TTL ms.
/// Returns the generation, or nil when another owner holds it.
pub(crate) const LEASE_ACQUIRE: &str = r#"
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return nil
end
local generation
if holder then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  generation = tonumber(redis.call('GET', KEYS[2]) or '0')
  if generation == 0 then generation = redis.call('INCR', KEYS[2]) end
else
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
  generation = redis.call('INCR', KEYS[2])
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return generation
"#;

/// Extends a lease held by ARGV[1] to ARGV[2] ms. Returns 1, or 0 when not the holder.
pub(crate) const LEASE_RENEW: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"#;

/// Gives up a lease held by ARGV[1]. Returns 1, or 0 when not the holder.
pub(crate) const LEASE_RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// Exact `a <= b` for two generations written as canonical decimal strings (u64 does not
/// fit a Lua number without loss). Prepended to the workflow-store scripts.
pub(crate) const GENERATION_LE: &str = r#"
local function le(a, b)
  if #a ~= #b then return #a < #b end
  return a <= b
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
/// when refused.
pub(crate) const WORKFLOW_SAVE: &str = r#"
local stored = redis.call('HGET', KEYS[1], 'generation')
if not stored or not le(stored, ARGV[2]) then return 0 end
local cancel = ARGV[3]
if redis.call('HGET', KEYS[1], 'cancel') == '1' then cancel = '1' end
redis.call('HSET', KEYS[1], 'generation', ARGV[2], 'cancel', cancel, 'record', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"#;

/// Raises a workflow run's generation to ARGV[1]. KEYS: the run's hash. Returns 1, or 0
/// when the run is missing or already newer.
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
/// refused or missing.
pub(crate) const WORKFLOW_REMOVE: &str = r#"
local stored = redis.call('HGET', KEYS[1], 'generation')
if not stored or not le(stored, ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
"#;

/// Claims a run's lease (as [`LEASE_ACQUIRE`]) and, once granted, reads the run's hash
/// (as `RedisWorkflowStore::load`): the state is read after the claim, in one round trip.
/// KEYS: the lease, its generation, the run's hash. ARGV: owner, TTL ms, generation TTL
/// ms. Returns nil when another owner holds the lease, else `{generation, record,
/// stored generation, cancel}` (missing fields as nil).
pub(crate) const WORKFLOW_CLAIM_LOAD: &str = r#"
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return nil
end
local generation
if holder then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  generation = tonumber(redis.call('GET', KEYS[2]) or '0')
  if generation == 0 then generation = redis.call('INCR', KEYS[2]) end
else
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
  generation = redis.call('INCR', KEYS[2])
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local fields = redis.call('HMGET', KEYS[3], 'record', 'generation', 'cancel')
return {generation, fields[1], fields[2], fields[3]}
"#;

/// Saves a workflow run (as [`WORKFLOW_SAVE`]), then releases its lease when ARGV[5]
/// holds it (as [`LEASE_RELEASE`]), whatever the save's answer: one round trip where
/// there were two. KEYS: the run's hash, the set of run ids, the lease. ARGV: run id,
/// generation, cancel flag, the record's JSON, owner. Returns 1, or 0 when the save was
/// refused.
pub(crate) const WORKFLOW_SAVE_RELEASE: &str = r#"
local saved = 0
local stored = redis.call('HGET', KEYS[1], 'generation')
if stored and le(stored, ARGV[2]) then
  local cancel = ARGV[3]
  if redis.call('HGET', KEYS[1], 'cancel') == '1' then cancel = '1' end
  redis.call('HSET', KEYS[1], 'generation', ARGV[2], 'cancel', cancel, 'record', ARGV[4])
  redis.call('SADD', KEYS[2], ARGV[1])
  saved = 1
end
if redis.call('GET', KEYS[3]) == ARGV[5] then
  redis.call('DEL', KEYS[3])
end
return saved
"#;

/// Stores a durable run's record. KEYS: the record, the set of run ids. ARGV: run id,
/// record JSON.
pub(crate) const RUN_SAVE: &str = r#"
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"#;

/// Removes and returns a durable run's record. KEYS: the record, the set of run ids, the
/// receipt of this take. ARGV: run id, receipt TTL ms. The record is kept a short while
/// under the receipt, so a retry of a take whose reply was lost still gets it (and the
/// record is never lost between two callers). Returns the JSON, or nil.
pub(crate) const RUN_TAKE: &str = r#"
local record = redis.call('GET', KEYS[1])
if not record then
  return redis.call('GET', KEYS[3])
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], record, 'PX', ARGV[2])
return record
"#;

/// Deletes a durable run's record. KEYS: the record, the set of run ids. ARGV: run id.
pub(crate) const RUN_DELETE: &str = r#"
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
"#;

/// A script run by its SHA-1, loaded into Redis on first use (and again after `SCRIPT
/// FLUSH` or a failover, when Redis answers `NOSCRIPT`).
#[derive(Debug, Clone)]
pub(crate) struct LuaScript {
    script: Script,
}

impl LuaScript {
    pub(crate) fn new(lua: &'static str) -> Self {
        Self {
            script: Script::from_lua(lua),
        }
    }

    pub(crate) async fn run<K, V>(
        &self,
        client: &Client,
        keys: K,
        args: V,
    ) -> Result<Value, FredError>
    where
        K: Into<MultipleKeys> + Send,
        V: TryInto<MultipleValues> + Send,
        V::Error: Into<FredError> + Send,
    {
        self.script.evalsha_with_reload(client, keys, args).await
    }

    /// `prelude` (shared Lua functions) followed by `lua`, as one script.
    pub(crate) fn with_prelude(prelude: &str, lua: &str) -> Self {
        Self {
            script: Script::from_lua(format!("{prelude}{lua}")),
        }
    }

    /// The script's SHA-1, for pipelined `EVALSHA`.
    pub(crate) fn sha1(&self) -> &str {
        self.script.sha1()
    }

    /// Loads the script into Redis (`SCRIPT LOAD`).
    pub(crate) async fn load(&self, client: &Client) -> Result<(), FredError> {
        self.script.load(client).await
    }
}

/// Every script of the crate, hashed once per connection.
#[derive(Debug, Clone)]
pub(crate) struct Scripts {
    pub(crate) append: LuaScript,
    pub(crate) append_batch: LuaScript,
    pub(crate) publish: LuaScript,
    pub(crate) release: LuaScript,
    pub(crate) reclaim: LuaScript,
    pub(crate) lease_acquire: LuaScript,
    pub(crate) lease_renew: LuaScript,
    pub(crate) lease_release: LuaScript,
    pub(crate) workflow_put: LuaScript,
    pub(crate) workflow_save: LuaScript,
    pub(crate) workflow_fence: LuaScript,
    pub(crate) workflow_cancel: LuaScript,
    pub(crate) workflow_remove: LuaScript,
    pub(crate) workflow_claim_load: LuaScript,
    pub(crate) workflow_save_release: LuaScript,
    pub(crate) workflow_save_release_enqueue: LuaScript,
    pub(crate) run_save: LuaScript,
    pub(crate) run_take: LuaScript,
    pub(crate) run_delete: LuaScript,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        Self {
            append: LuaScript::new(APPEND),
            append_batch: LuaScript::new(APPEND_BATCH),
            publish: LuaScript::new(PUBLISH),
            release: LuaScript::new(RELEASE),
            reclaim: LuaScript::new(RECLAIM),
            lease_acquire: LuaScript::new(LEASE_ACQUIRE),
            lease_renew: LuaScript::new(LEASE_RENEW),
            lease_release: LuaScript::new(LEASE_RELEASE),
            workflow_put: LuaScript::new(WORKFLOW_PUT),
            workflow_save: LuaScript::with_prelude(GENERATION_LE, WORKFLOW_SAVE),
            workflow_fence: LuaScript::with_prelude(GENERATION_LE, WORKFLOW_FENCE),
            workflow_cancel: LuaScript::new(WORKFLOW_CANCEL),
            workflow_remove: LuaScript::with_prelude(GENERATION_LE, WORKFLOW_REMOVE),
            workflow_claim_load: LuaScript::new(WORKFLOW_CLAIM_LOAD),
            workflow_save_release: LuaScript::with_prelude(GENERATION_LE, WORKFLOW_SAVE_RELEASE),
            workflow_save_release_enqueue: {
                let (prelude, lua) = crate::workflow_enqueue::save_release_enqueue_source();
                LuaScript::with_prelude(&prelude, lua)
            },
            run_save: LuaScript::new(RUN_SAVE),
            run_take: LuaScript::new(RUN_TAKE),
            run_delete: LuaScript::new(RUN_DELETE),
        }
    }
}
