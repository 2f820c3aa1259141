//! A private TLS-only `redis-server` for `rediss://` tests: a CA and a server certificate
//! for `localhost` / 127.0.0.1 made with the `openssl` CLI in a fresh directory, and the
//! server on a free port, killed (and its directory removed) on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::redis_server::{free_port, spawn};

/// A running TLS-only `redis-server`.
#[derive(Debug)]
pub struct TlsRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl TlsRedis {
    /// Starts one with no password.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts one whose `default` user needs `password` (`--requirepass`).
    pub fn with_password(password: &str) -> Self {
        Self::start_with(Some(password))
    }

    fn start_with(password: Option<&str>) -> Self {
        let dir = certificates();
        let port = free_port();
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let (cert, key, ca) = (path("server.crt"), path("server.key"), path("ca.crt"));
        let tls_port = port.to_string();
        let mut args = vec!["--port", "0", "--tls-port", &tls_port];
        args.extend(["--tls-cert-file", &cert, "--tls-key-file", &key]);
        args.extend(["--tls-ca-cert-file", &ca, "--tls-auth-clients", "no"]);
        args.extend(["--appendonly", "no"]);
        if let Some(password) = password {
            args.extend(["--requirepass", password]);
        }
        let child = spawn(port, &args);
        Self { child, port, dir }
    }

    /// The TLS port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA certificate that signed the server's (trust it through `SSL_CERT_FILE`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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
    let dir = std::env::temp_dir().join(format!("mastra-test-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let new_key = ["-newkey", "rsa:2048", "-nodes"];
    let ca = ["-keyout", "ca.key", "-out", "ca.crt", "-days", "1"];
    openssl(
        &dir,
        &[
            &["req", "-x509"],
            &new_key[..],
            &ca,
            &["-subj", "/CN=mastra-test-ca"],
        ]
        .concat(),
    );
    let csr = [
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ];
    openssl(&dir, &[&["req"], &new_key[..], &csr].concat());
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let sign = [
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
    ];
    let out = [
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
    ];
    openssl(&dir, &[&sign[..], &out].concat());
    dir
}
