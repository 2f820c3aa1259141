//! Node helpers for the browser and interop tests: a private npm install of a pinned
//! package.json in a temporary folder, and running a script there. Node and npm must be
//! installed (they are on the development machines and in CI): their absence fails loudly.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A temporary folder with `node_modules` installed from a pinned `package.json`.
pub(crate) struct NodeProject {
    pub(crate) dir: PathBuf,
}

impl NodeProject {
    /// Copies `files` from `source` (relative to this crate's `tests/`) into a fresh
    /// temporary folder and runs `npm install` there.
    pub(crate) fn install(name: &str, source: &str, files: &[&str]) -> Self {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join(source);
        let dir = std::env::temp_dir().join(format!("mastra-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for file in files {
            std::fs::copy(from.join(file), dir.join(file)).unwrap();
        }
        let version = Command::new("node").arg("--version").output();
        assert!(
            version.as_ref().is_ok_and(|out| out.status.success()),
            "node is required for this test (install Node 20): {version:?}"
        );
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .unwrap_or_else(|error| panic!("npm is required for this test: {error}"));
        assert!(status.success(), "npm install failed in {}", dir.display());
        Self { dir }
    }

    /// Runs `node <script> <args>` in the folder (at most `limit`); returns its stdout,
    /// failing with its output when it fails.
    pub(crate) async fn run(&self, script: &str, args: &[&str], limit: Duration) -> String {
        let child = tokio::process::Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(&self.dir)
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(limit, child)
            .await
            .unwrap_or_else(|_| panic!("node {script} took longer than {limit:?}"))
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "node {script} failed:\n{stdout}\n{stderr}"
        );
        stdout
    }
}

impl Drop for NodeProject {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The path of Chromium, installed with apt-get (Debian package `chromium`) when missing.
pub(crate) fn chromium() -> String {
    let find = || {
        Command::new("sh")
            .args(["-c", "command -v chromium"])
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    if let Some(path) = find() {
        return path;
    }
    let install =
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium";
    let status = Command::new("sh").args(["-c", install]).status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "chromium is missing and `{install}` failed (it needs root)"
    );
    find().unwrap_or_else(|| panic!("chromium is still missing after `{install}`"))
}
