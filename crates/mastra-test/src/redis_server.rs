//! Private `redis-server` processes for fault tests: on a free port of their own, so a test
//! may stop, restart or pause one without touching the shared Redis. Killed on drop.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private `redis-server` on a free or given port.
#[derive(Debug)]
pub struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    /// Starts one on `port`, or on a free port when `None` (pass the old port to restart a
    /// stopped server where its clients reconnect).
    pub fn start(port: Option<u16>) -> Self {
        let port = port.unwrap_or_else(free_port);
        let child = spawn(port, &["--port", &port.to_string(), "--appendonly", "no"]);
        Self { child, port }
    }

    /// Starts one that keeps its data in `dir` (`appendonly yes`, every write synced), so
    /// that a restart on the same port and directory finds what was written before.
    pub fn start_persistent(port: Option<u16>, dir: &Path) -> Self {
        let port = port.unwrap_or_else(free_port);
        let dir = dir.to_string_lossy();
        let port_arg = port.to_string();
        let args = ["--port", &port_arg, "--dir", &dir, "--appendonly", "yes"];
        let child = spawn(port, &[&args[..], &["--appendfsync", "always"]].concat());
        Self { child, port }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (as a crash would); a later [`start`](Self::start) on the same port brings
    /// an empty server back.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A free TCP port on 127.0.0.1 (free when asked: bind it soon).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `redis-server` on 127.0.0.1 with `args` (which name the port it listens on,
/// `port`, and the append-only setting) and no snapshots, and waits until `port` accepts
/// connections.
pub(crate) fn spawn(port: u16, args: &[&str]) -> Child {
    let child = Command::new("redis-server")
        .args(args)
        .args(["--bind", "127.0.0.1", "--save", ""])
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
    child
}
