//! Upstash over TLS: an endpoint and a token turned into a `rediss://` [`RedisConfig`], so
//! that every backend of `mastra-redis` (cache, pubsub, consumer groups, leases) runs on
//! Upstash unchanged.

use mastra_redis::RedisConfig;

use crate::config::{TOKEN_VAR, URL_VAR};
use crate::UpstashError;

/// Upstash's Redis port (TLS is always on; there is no plain-TCP port).
pub const UPSTASH_PORT: u16 = 6379;

/// The user Upstash's tokens belong to.
const USER: &str = "default";

/// The `rediss://default:<token>@host:port` URL of an Upstash database.
///
/// `endpoint` is what the Upstash console shows: `host`, `host:port`, a
/// `rediss://host[:port]` URL, or the database's REST URL `https://host` (the REST API and
/// the Redis port share the host, and the REST token is also the Redis password). The port
/// defaults to [`UPSTASH_PORT`]. `redis://` and `http://` are refused: Upstash only speaks
/// TLS, and a token must not cross the network in clear. The token is percent-encoded, so
/// any character may appear in it.
pub fn tls_url(endpoint: &str, token: &str) -> Result<String, UpstashError> {
    let (host, port) = parse_endpoint(endpoint)?;
    let token = token.trim();
    if token.is_empty() {
        return Err(UpstashError::Config("the Upstash token is empty".into()));
    }
    Ok(format!(
        "rediss://{USER}:{}@{host}:{port}",
        percent_encode(token)
    ))
}

/// A [`RedisConfig`] for an Upstash database over TLS (see [`tls_url`] for the endpoint
/// forms), with `mastra-redis`'s defaults otherwise: key prefix `mastra:cache:`, TTL 300 s.
///
/// ```
/// let config = mastra_upstash::tls_config("eu1-able-cat-12345.upstash.io", "AXsecret=")?;
/// assert!(config.uses_tls());
/// assert_eq!(
///     config.url,
///     "rediss://default:AXsecret%3D@eu1-able-cat-12345.upstash.io:6379"
/// );
/// # Ok::<(), mastra_upstash::UpstashError>(())
/// ```
pub fn tls_config(endpoint: &str, token: &str) -> Result<RedisConfig, UpstashError> {
    let config = RedisConfig::new(tls_url(endpoint, token)?);
    config
        .validate()
        .map_err(|error| UpstashError::Config(error.to_string()))?;
    Ok(config)
}

/// [`tls_config`] for the database named by `UPSTASH_REDIS_REST_URL` and
/// `UPSTASH_REDIS_REST_TOKEN` (the host of the REST URL, port 6379, the token as password).
pub fn tls_config_from_env() -> Result<RedisConfig, UpstashError> {
    tls_config(
        &crate::config::env_var(URL_VAR)?,
        &crate::config::env_var(TOKEN_VAR)?,
    )
}

/// Splits an endpoint into its host and port, refusing non-TLS schemes.
fn parse_endpoint(endpoint: &str) -> Result<(String, u16), UpstashError> {
    let invalid = |reason: &str| {
        UpstashError::Config(format!("`{endpoint}` is not an Upstash endpoint: {reason}"))
    };
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err(UpstashError::Config("the Upstash endpoint is empty".into()));
    }
    let (scheme, rest) = match endpoint.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, endpoint),
    };
    match scheme.as_deref() {
        None | Some("rediss") | Some("https") => {}
        Some("redis") => {
            return Err(invalid(
                "redis:// is plain TCP; Upstash only accepts TLS, use rediss:// or host:port",
            ))
        }
        Some("http") => {
            return Err(invalid(
                "http:// is not TLS; Upstash only accepts TLS, use https:// or rediss://",
            ))
        }
        Some(other) => {
            return Err(invalid(&format!(
                "the scheme `{other}://` is not supported; use host:port, rediss:// or https://"
            )))
        }
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err(invalid(
            "a path or query is not allowed (Upstash has one database)",
        ));
    }
    if authority.contains('@') {
        return Err(invalid(
            "credentials belong in the token argument, not in the endpoint",
        ));
    }
    let (host, port) = split_port(authority).ok_or_else(|| invalid("bad port"))?;
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(invalid("no host"));
    }
    let port = match (port, scheme.as_deref()) {
        (Some(_), Some("https")) => {
            return Err(invalid(
                "the port of a REST URL is not the Redis port; pass host:port instead",
            ))
        }
        (Some(port), _) => port,
        (None, _) => UPSTASH_PORT,
    };
    Ok((host.to_owned(), port))
}

/// `host[:port]` or `[v6]:port`; `None` when a port is present but not a port number.
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, after) = authority.split_at(close + 1);
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    match port {
        None => Some((host, None)),
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port > 0 => Some((host, Some(port))),
            _ => None,
        },
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so the token fits the
/// URL's userinfo whatever it contains (`mastra-redis` decodes it again).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn endpoints_become_rediss_urls_with_the_default_user() {
        let expected = "rediss://default:tok@eu1-x.upstash.io:6379";
        for endpoint in [
            "eu1-x.upstash.io",
            "eu1-x.upstash.io:6379",
            "rediss://eu1-x.upstash.io:6379",
            "REDISS://eu1-x.upstash.io",
            "https://eu1-x.upstash.io",
            "https://eu1-x.upstash.io/",
            "  eu1-x.upstash.io  ",
        ] {
            assert_eq!(tls_url(endpoint, "tok").unwrap(), expected, "{endpoint}");
        }
        assert_eq!(
            tls_url("old-db.upstash.io:30994", "tok").unwrap(),
            "rediss://default:tok@old-db.upstash.io:30994"
        );
        assert_eq!(
            tls_url("[::1]:6380", "tok").unwrap(),
            "rediss://default:tok@[::1]:6380"
        );
        let config = tls_config("eu1-x.upstash.io", "tok").unwrap();
        assert!(config.uses_tls());
        assert_eq!(config.key_prefix, "mastra:cache:");
    }

    #[test]
    fn tokens_are_percent_encoded_and_decode_back() {
        let token = "AX/y+z=a@b:c%d e#f?g[h]~._-é";
        let url = tls_url("h.upstash.io", token).unwrap();
        let userinfo = url
            .strip_prefix("rediss://default:")
            .and_then(|rest| rest.strip_suffix("@h.upstash.io:6379"))
            .unwrap();
        assert!(
            userinfo
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
            "{userinfo}"
        );
        assert_eq!(decode(userinfo), token);
        assert_eq!(
            userinfo,
            "AX%2Fy%2Bz%3Da%40b%3Ac%25d%20e%23f%3Fg%5Bh%5D~._-%C3%A9"
        );
        assert!(tls_config("h.upstash.io", token)
            .unwrap()
            .validate()
            .is_ok());
    }

    #[test]
    fn non_tls_schemes_are_refused_clearly() {
        for (endpoint, words) in [
            ("redis://h.upstash.io:6379", "redis:// is plain TCP"),
            ("http://h.upstash.io", "http:// is not TLS"),
            ("ftp://h.upstash.io", "`ftp://` is not supported"),
        ] {
            let error = tls_url(endpoint, "tok").unwrap_err();
            assert!(matches!(error, UpstashError::Config(_)));
            let message = error.to_string();
            assert!(message.contains(words), "{message}");
            assert!(
                message.contains("TLS") || message.contains("rediss://"),
                "{message}"
            );
        }
    }

    #[test]
    fn malformed_endpoints_and_tokens_are_refused() {
        for endpoint in [
            "",
            "h.upstash.io:notaport",
            "h.upstash.io:0",
            "h.upstash.io:70000",
            "rediss://h.upstash.io:6379/1",
            "rediss://default:pw@h.upstash.io",
            "https://h.upstash.io:443",
            ":6379",
        ] {
            assert!(tls_url(endpoint, "tok").is_err(), "{endpoint:?}");
        }
        let empty = tls_url("h.upstash.io", "  ").unwrap_err();
        assert!(empty.to_string().contains("token is empty"), "{empty}");
    }
}
