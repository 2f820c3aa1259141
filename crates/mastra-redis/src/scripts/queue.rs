//! Live events and consumer groups: publish, hand back, reclaim.

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
