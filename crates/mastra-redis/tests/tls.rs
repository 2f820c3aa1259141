//! `rediss://`: certificates made by this test with the `openssl` CLI, a private
//! `redis-server --tls-port`, and the test CA trusted through `SSL_CERT_FILE` (read by the
//! system-roots loader). The cache and the pubsub work over TLS like over TCP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mastra_cache::ServerCache;
use mastra_durable::CachingPubSub;
use mastra_pubsub::{Event, EventType, PublishOptions};
use mastra_redis::{RedisConfig, RedisConnection, RedisPubSub, RedisServerCache};
use serde_json::json;

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

/// A CA and a server certificate for `localhost` / 127.0.0.1, in a fresh directory.
fn certificates() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mastra-redis-tls-{}", uuid::Uuid::new_v4()));
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
            "/CN=mastra-test-ca",
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
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args([
                "--tls-cert-file",
                &path("server.crt"),
                "--tls-key-file",
                &path("server.key"),
            ])
            .args([
                "--tls-ca-cert-file",
                &path("ca.crt"),
                "--tls-auth-clients",
                "no",
            ])
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
async fn cache_and_pubsub_work_over_tls() {
    let server = TlsRedis::start();
    // Only this test binary's process sees the variable.
    std::env::set_var("SSL_CERT_FILE", server.dir.join("ca.crt"));
    let config = RedisConfig::new(format!("rediss://localhost:{}", server.port));
    assert!(config.uses_tls());
    let connection = RedisConnection::connect(config)
        .await
        .unwrap_or_else(|error| panic!("TLS connection failed: {error}"));
    let cache = Arc::new(RedisServerCache::new(connection.clone()));
    let pubsub = Arc::new(RedisPubSub::new(connection).await.unwrap());
    let caching = CachingPubSub::new(pubsub, cache.clone());

    let mut observer = caching
        .subscribe_with_replay("agent.stream.tls")
        .await
        .unwrap();
    for kind in [EventType::Chunk, EventType::Finish] {
        let event = Event::new(kind, "tls", json!({}));
        caching
            .publish_event("agent.stream.tls", event, PublishOptions::default())
            .await
            .unwrap();
    }
    let mut indices = Vec::new();
    while let Some(item) = tokio::time::timeout(Duration::from_secs(5), observer.next())
        .await
        .expect("events over TLS")
    {
        indices.push(item.unwrap().index.unwrap());
    }
    assert_eq!(indices, vec![0, 1]);
    assert_eq!(cache.list_len("pubsub:agent.stream.tls").await.unwrap(), 2);
}

#[tokio::test]
async fn a_plain_connection_to_the_tls_port_fails_clearly() {
    let server = TlsRedis::start();
    let config = RedisConfig::new(format!("redis://127.0.0.1:{}", server.port))
        .with_connect_timeout(Duration::from_secs(2));
    let started = Instant::now();
    let outcome = RedisConnection::connect(config).await;
    assert!(outcome.is_err(), "plain TCP must not talk to a TLS port");
    assert!(started.elapsed() < Duration::from_secs(5));
}
