//! What the tests against the demo and real peers share: the project's Python, child
//! processes killed on drop, fresh directories; the demo runner ([`demo`]), llmock
//! ([`llmock`]), mosquitto and the paho subscriber ([`mqtt`]). A missing peer fails the
//! test (run `cargo xtask doctor --install`), never skips it.
#![allow(dead_code)]

pub mod demo;
pub mod llmock;
pub mod mqtt;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3`; fails loudly (never skips)
/// when it is missing or cannot import `module`.
pub fn python_with(module: &str) -> PathBuf {
    ioto_test_peers::python_with(&[module]).unwrap_or_else(|e| panic!("{e}"))
}

/// A fresh directory under the target's temporary directory, named after `test`.
pub fn unique_dir(test: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{test}-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One line of a child's stdout and when the test read it.
pub type Line = (Instant, String);

/// A child process, killed and reaped on drop (also when a check panics).
pub struct Proc {
    pub child: Child,
    what: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Starts `cmd` with piped stdin, stdout and stderr; `what` names it in failures.
    pub fn spawn(what: &'static str, cmd: &mut Command) -> Self {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Self::start(what, cmd)
    }

    /// Starts `cmd` with no stdin and its output discarded.
    pub fn quiet(what: &'static str, cmd: &mut Command) -> Self {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Self::start(what, cmd)
    }

    fn start(what: &'static str, cmd: &mut Command) -> Self {
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start the {what} ({e}): `cargo xtask doctor --install`")
        });
        Self { child, what }
    }

    /// Waits until it accepts TCP connections on loopback `port` (within `limit`);
    /// fails if it exits first.
    pub fn wait_for_port(&mut self, port: u16, limit: Duration) {
        let until = Instant::now() + limit;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the {} exited at start ({status})", self.what);
            }
            assert!(
                Instant::now() < until,
                "the {} is not accepting on port {port} after {limit:?}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its stdout, one timestamped line at a time, on a channel (read by a thread).
    pub fn lines(&mut self) -> Receiver<Line> {
        let out = self.child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        rx
    }

    /// Its stderr, collected by a thread until the process closes it.
    pub fn stderr(&mut self) -> JoinHandle<String> {
        let mut err = self.child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        })
    }

    /// Its stdin.
    pub fn stdin(&mut self) -> ChildStdin {
        self.child.stdin.take().unwrap()
    }

    /// Waits at most `limit` for the exit; fails on timeout (the drop kills it).
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < until,
                "the {} did not exit within {limit:?}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Receives one line, failing with `context` after `limit`.
pub fn recv_line(rx: &Receiver<Line>, limit: Duration, context: &str) -> Line {
    match rx.recv_timeout(limit) {
        Ok(line) => line,
        Err(RecvTimeoutError::Timeout) => panic!("{context}: nothing within {limit:?}"),
        Err(RecvTimeoutError::Disconnected) => panic!("{context}: the process closed stdout"),
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    ioto_test_peers::free_port().unwrap_or_else(|e| panic!("{e}"))
}
