//! What every transport to the same Redis layout shares, so that a log written over
//! another transport (`mastra-upstash`'s REST client) is byte-identical to ours: the
//! append scripts and the literal `SCAN MATCH` of a key prefix.

/// The Lua script of the indexed log append (`EVAL APPEND_SCRIPT 2 <log> <log>:counter
/// <body> <ttl ms> <retry 0|1>`; see [`RedisServerCache`](crate::RedisServerCache)).
pub const APPEND_SCRIPT: &str = crate::scripts::APPEND;

/// The Lua script of a batch append (`EVAL APPEND_BATCH_SCRIPT 2 <log> <log>:counter
/// <ttl ms> <retry 0|1> <body>...`): the entries [`APPEND_SCRIPT`] would store one by one,
/// at consecutive positions, in one step; returns the first position.
pub const APPEND_BATCH_SCRIPT: &str = crate::scripts::APPEND_BATCH;

/// Escapes the glob characters of `SCAN MATCH` so a prefix matches only itself.
pub fn glob_escape(prefix: &str) -> String {
    let mut escaped = String::with_capacity(prefix.len() + 4);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_matched_literally() {
        assert_eq!(glob_escape("mastra:cache:"), "mastra:cache:");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
