//! Run logs: the indexed append, one entry or a batch.

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
