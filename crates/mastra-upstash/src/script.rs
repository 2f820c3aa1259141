//! The append script, the same text as `mastra-redis`'s, so a log written over REST is
//! byte-identical to one written over TCP (a unit test compares the two sources).

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

#[cfg(test)]
mod tests {
    #[test]
    fn the_script_is_mastra_rediss() {
        let theirs = include_str!("../../mastra-redis/src/scripts.rs");
        let start = theirs
            .find("pub(crate) const APPEND: &str = r#\"")
            .expect("mastra-redis's APPEND script");
        let theirs = &theirs[start..];
        let body = &theirs[theirs.find('"').unwrap_or(0) + 1..];
        let body = &body[..body.find("\"#;").unwrap_or(body.len())];
        assert_eq!(body, super::APPEND);
    }
}
