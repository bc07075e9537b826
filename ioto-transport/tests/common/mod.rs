//! Shared helpers for the HTTP and WebSocket integration tests: a tokio-backed
//! `embedded-nal-async` stack, a tokio [`Timer`], and real Python peers started
//! on ephemeral loopback ports and killed on drop.
#![allow(dead_code, clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ioto_core::Instant;
use ioto_transport::http::Timer;

/// Plain TCP and DNS over tokio: the host platform's.
pub use ioto_board_host::platform::TokioNet as TokioStack;

/// A [`Timer`] on tokio's clock.
#[derive(Clone)]
pub struct TokioTimer {
    start: std::time::Instant,
}

impl TokioTimer {
    pub fn new() -> Self {
        TokioTimer {
            start: std::time::Instant::now(),
        }
    }
}

impl Timer for TokioTimer {
    fn now(&self) -> Instant {
        Instant(self.start.elapsed().as_micros() as u64)
    }

    async fn sleep_ms(&mut self, ms: u32) {
        tokio::time::sleep(Duration::from_millis(u64::from(ms))).await
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python that runs the peers: `$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3`.
/// Fails the test loudly when it is missing or lacks `module`.
pub fn python_with(module: &str) -> PathBuf {
    let python = std::env::var_os("IOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python3"));
    let ok = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "Python peer unavailable: {} cannot import `{module}`. Run `cargo xtask doctor --install` \
         (creates <workspace>/.venv with python/requirements.txt) or set IOTO_PYTHON.",
        python.display()
    );
    python
}

/// A peer process (Python server script from `tests/peers/`), killed on drop.
pub struct Peer {
    child: Child,
    /// The loopback port the peer listens on.
    pub port: u16,
    lines: mpsc::Receiver<String>,
}

impl Peer {
    /// Starts `tests/peers/<script>` with `module` importable, waits for its
    /// `LISTENING <port>` line.
    pub fn start(script: &str, module: &str, args: &[&str]) -> Peer {
        let python = python_with(module);
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/peers")
            .join(script);
        let mut child = Command::new(python)
            .arg(&path)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("peer {script} did not report its port, said {line:?}")
            });
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Peer { child, port, lines }
    }

    /// Waits (up to 10 s) for the next stdout line of the peer starting with `prefix`.
    pub fn expect_line(&self, prefix: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => continue,
                Err(e) => panic!("peer printed no line starting with {prefix:?}: {e}"),
            }
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// Runs the peer script once with `args` and returns its stdout (oracle output).
    pub fn oracle(script: &str, module: &str, args: &[&str]) -> Vec<u8> {
        let python = python_with(module);
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/peers")
            .join(script);
        let out = Command::new(python).arg(path).args(args).output().unwrap();
        assert!(out.status.success(), "oracle {script} {args:?} failed");
        out.stdout
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The byte pattern the peers use for generated bodies.
pub fn pattern(n: usize, offset: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (((i + offset) * 7 + 3) % 251) as u8)
        .collect()
}
