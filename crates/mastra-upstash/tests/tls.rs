//! Upstash over TLS, end to end: a private `redis-server` on a TLS port with a password
//! (`mastra_test::tls`, certificates made with the `openssl` CLI, the test CA trusted through
//! `SSL_CERT_FILE`), reached with `tls_config(endpoint, token)` where the token holds
//! characters that must be escaped in a URL. The `mastra-redis` cache works over it; a
//! wrong token fails clearly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use mastra_cache::ServerCache;
use mastra_redis::{RedisConnection, RedisServerCache};
use mastra_test::tls::TlsRedis;

/// A token with every character class that needs escaping in a URL's userinfo.
const TOKEN: &str = "AX/y+z=a@b:c%d?e[f]~g";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_backends_run_over_tls_with_an_escaped_token() {
    let server = TlsRedis::with_password(TOKEN);
    // Only this test binary's process sees the variable.
    std::env::set_var("SSL_CERT_FILE", server.ca_file());

    let endpoint = format!("rediss://localhost:{}", server.port());
    let config = mastra_upstash::tls_config(&endpoint, TOKEN)
        .unwrap()
        .with_connect_timeout(Duration::from_secs(5));
    assert!(config.uses_tls());
    assert!(
        !config.url.contains(TOKEN),
        "the token is escaped in the URL"
    );
    let connection = RedisConnection::connect(config)
        .await
        .unwrap_or_else(|error| panic!("TLS connection with the token failed: {error}"));
    let cache = RedisServerCache::new(connection);
    assert_eq!(cache.append_indexed("log", "{}").await.unwrap(), 0);
    assert_eq!(cache.append_indexed("log", "{}").await.unwrap(), 1);
    assert_eq!(
        cache.list_range("log", 1, None).await.unwrap(),
        [r#"{"index":1}"#]
    );

    // The same endpoint with another token is refused, clearly and for good.
    let wrong = mastra_upstash::tls_config(&format!("localhost:{}", server.port()), "wrong")
        .unwrap()
        .with_connect_timeout(Duration::from_secs(5));
    let error = RedisConnection::connect(wrong).await.unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    let message = error.to_string();
    assert!(
        !message.contains("wrong@"),
        "the password is redacted: {message}"
    );
}

#[test]
fn plain_tcp_urls_are_refused_before_connecting() {
    let error = mastra_upstash::tls_config("redis://localhost:6379", TOKEN).unwrap_err();
    assert!(
        error.to_string().contains("Upstash only accepts TLS"),
        "{error}"
    );
}
