//! The durable agent's run store.

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
