//! Run leases: claim (raising the generation), renew, release.

/// The lease steps as Lua functions, prepended to every script that takes or gives back a
/// lease (here and in the workflow store's combined scripts), so each is written once.
///
/// `acquire(lease, generation key, owner, ttl ms, generation ttl ms)` returns the
/// generation, or nil when another owner holds the lease: a new claim raises the
/// generation, the holder's re-claim extends the lease and keeps it. `release(lease,
/// owner)` deletes the lease when `owner` holds it (1), else leaves it (0).
pub(crate) const LEASE_FUNCTIONS: &str = r#"
local function acquire(lease, generation_key, owner, ttl, generation_ttl)
  local holder = redis.call('GET', lease)
  if holder and holder ~= owner then
    return nil
  end
  local generation
  if holder then
    redis.call('PEXPIRE', lease, ttl)
    generation = tonumber(redis.call('GET', generation_key) or '0')
    if generation == 0 then generation = redis.call('INCR', generation_key) end
  else
    redis.call('SET', lease, owner, 'NX', 'PX', ttl)
    generation = redis.call('INCR', generation_key)
  end
  redis.call('PEXPIRE', generation_key, generation_ttl)
  return generation
end
local function release(lease, owner)
  if redis.call('GET', lease) == owner then
    return redis.call('DEL', lease)
  end
  return 0
end
"#;

/// Claims a lease. KEYS: the lease, its generation. ARGV: owner, TTL ms, generation TTL ms.
/// Returns the generation, or nil when another owner holds it. After [`LEASE_FUNCTIONS`].
pub(crate) const LEASE_ACQUIRE: &str = r#"
return acquire(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
"#;

/// Extends a lease held by ARGV[1] to ARGV[2] ms. Returns 1, or 0 when not the holder.
pub(crate) const LEASE_RENEW: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"#;

/// Gives up a lease held by ARGV[1]. Returns 1, or 0 when not the holder. After
/// [`LEASE_FUNCTIONS`].
pub(crate) const LEASE_RELEASE: &str = r#"
return release(KEYS[1], ARGV[1])
"#;
