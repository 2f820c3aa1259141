//! Upstash over TLS, end to end: a private `redis-server` on a TLS port with a password
//! (certificates made by this test with the `openssl` CLI, the test CA trusted through
//! `SSL_CERT_FILE`), reached with `tls_config(endpoint, token)` where the token holds
//! characters that must be escaped in a URL. The `mastra-redis` cache works over it; a
//! wrong token fails clearly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mastra_cache::ServerCache;
use mastra_redis::{RedisConnection, RedisServerCache};

/// A token with every character class that needs escaping in a URL's userinfo.
const TOKEN: &str = "AX/y+z=a@b:c%d?e[f]~g";

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the openssl CLI must be installed for this test");
    assert!(status.success(), "openssl {args:?} failed");
}

/// A CA and a server certificate for `localhost`, in a fresh directory.
fn certificates() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mastra-upstash-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "1",
            "-subj",
            "/CN=mastra-upstash-test-ca",
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
    dir
}

/// A private TLS-only `redis-server` whose `default` user's password is [`TOKEN`].
struct TlsRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl TlsRedis {
    fn start() -> Self {
        let dir = certificates();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--tls-cert-file", &path("server.crt")])
            .args(["--tls-key-file", &path("server.key")])
            .args(["--tls-ca-cert-file", &path("ca.crt")])
            .args(["--tls-auth-clients", "no"])
            .args(["--requirepass", TOKEN])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for this test");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port, dir }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_backends_run_over_tls_with_an_escaped_token() {
    let server = TlsRedis::start();
    // Only this test binary's process sees the variable.
    std::env::set_var("SSL_CERT_FILE", server.dir.join("ca.crt"));

    let endpoint = format!("rediss://localhost:{}", server.port);
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
    let wrong = mastra_upstash::tls_config(&format!("localhost:{}", server.port), "wrong")
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
