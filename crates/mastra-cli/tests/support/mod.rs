//! `mastra serve` processes for the tests: spawned from the built binary on a free port,
//! their output kept (shown when a test fails), killed when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A running `mastra serve`.
pub(crate) struct Serve {
    child: Child,
    /// `http://127.0.0.1:<port>` (no `/api`).
    pub(crate) url: String,
    /// The first line it printed.
    pub(crate) banner: String,
    output: Arc<Mutex<String>>,
}

impl Serve {
    /// Starts `mastra serve --port 0 <args>` with `env` set (and `REDIS_URL`,
    /// `MASTRA_API_TOKENS` and `INNGEST_*` unset unless given).
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mastra"));
        command
            .args(["serve", "--port", "0"])
            .args(args)
            .env_remove("MASTRA_API_TOKENS")
            .env_remove("REDIS_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars() {
            if name.starts_with("INNGEST_") {
                command.env_remove(name);
            }
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        stdout.read_line(&mut banner).unwrap();
        let output = Arc::new(Mutex::new(banner.clone()));
        let stderr = child.stderr.take().unwrap();
        let sources: [Box<dyn Read + Send>; 2] = [Box::new(stdout), Box::new(stderr)];
        for mut source in sources {
            let output = output.clone();
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                while let Ok(n @ 1..) = source.read(&mut buffer) {
                    output
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buffer[..n]));
                }
            });
        }
        let url = banner
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {banner:?} (args {args:?})"))
            .trim_end_matches("/api")
            .to_owned();
        Self {
            child,
            url,
            banner,
            output,
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything it printed so far.
    pub(crate) fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Sends a signal (`KILL`, `STOP`, `CONT`, `TERM`) with `kill`.
    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// `SIGTERM`, then waits (10 s at most) for the process to exit; its exit status.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "mastra serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `SIGKILL`, and waits for the process to be gone.
    pub(crate) fn kill(mut self) {
        self.signal("KILL");
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- output of mastra serve {} ---\n{}",
                self.url,
                self.output()
            );
        }
    }
}

/// Polls `check` every 20 ms until it is true; panics with `what` after `limit`.
pub(crate) async fn wait_until<F: FnMut() -> bool>(what: &str, limit: Duration, mut check: F) {
    let deadline = std::time::Instant::now() + limit;
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A fresh Redis prefix for one test (`--redis-prefix`).
pub(crate) fn redis_prefix(test: &str) -> String {
    format!("test:cli:{test}:{}:", uuid::Uuid::new_v4())
}
