#![doc = include_str!("../README.md")]

pub mod llmock;

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What goes wrong starting or talking to a peer: a message naming the peer and, where it
/// helps, the fix (`cargo xtask doctor --install`).
pub type Error = String;

/// `$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3` (whether or not it exists).
pub fn workspace_python() -> PathBuf {
    std::env::var_os("IOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python3"))
}

/// [`workspace_python`] if it imports every one of `modules`, else an error that says how
/// to install them.
pub fn python_with(modules: &[&str]) -> Result<PathBuf, Error> {
    python_importing(workspace_python(), modules)
}

/// `python` if it imports every one of `modules`, else an error that says how to install
/// them.
pub fn python_importing(python: PathBuf, modules: &[&str]) -> Result<PathBuf, Error> {
    let import = format!("import {}", modules.join(", "));
    let ok = Command::new(&python)
        .args(["-c", &import])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(python)
    } else {
        Err(format!(
            "{} cannot `{import}`: run `cargo xtask doctor --install` (creates \
             <workspace>/.venv from python/requirements.txt) or set IOTO_PYTHON",
            python.display()
        ))
    }
}

/// A free TCP port on `127.0.0.1` (bound, read and released), never one this process
/// handed out before: tests of one binary run in parallel threads, and a port released
/// by one and handed to another before its server binds would let the second test talk
/// to the first one's server.
pub fn free_port() -> Result<u16, Error> {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    for _ in 0..64 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free loopback port: {e}"))?;
        let mut given = GIVEN.lock().unwrap_or_else(PoisonError::into_inner);
        if given.insert(port) {
            return Ok(port);
        }
    }
    Err("no loopback port this process has not used yet".into())
}

/// A peer process listening on a loopback port, killed and reaped on drop (also when a
/// test's check panics).
#[derive(Debug)]
pub struct Peer {
    child: Child,
    port: u16,
    what: &'static str,
}

impl Peer {
    /// Starts `cmd` (stdin, stdout and stderr discarded), a server that will listen on
    /// `127.0.0.1:port`, and waits up to 30 s until it accepts connections. `what` names
    /// it in errors.
    pub fn spawn(what: &'static str, cmd: &mut Command, port: u16) -> Result<Peer, Error> {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start {what}: {e} (run `cargo xtask doctor --install`)")
            })?;
        let mut peer = Peer { child, port, what };
        peer.wait_listening(Duration::from_secs(30))?;
        Ok(peer)
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn wait_listening(&mut self, limit: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + limit;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited at start ({status}); run `cargo xtask doctor --install`",
                    self.what
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not listen on 127.0.0.1:{} within {} s",
                    self.what,
                    self.port,
                    limit.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
