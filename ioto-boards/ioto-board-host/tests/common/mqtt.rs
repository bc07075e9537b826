//! mosquitto and the project's paho subscriber (`tests/paho_sub.py`).

use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command};
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Line, Proc, free_port, recv_line};

/// `$IOTO_PYTHON` (else the workspace's `.venv`) with paho-mqtt; fails loudly without.
pub fn python_with_paho() -> PathBuf {
    super::python_with("paho.mqtt.client")
}

/// mosquitto on a free loopback port, configured and logging in a directory (killed
/// on drop; [`Mosquitto::stop`] ends it with SIGTERM, [`Mosquitto::launch`] starts it
/// again on the same port).
pub struct Mosquitto {
    proc: Option<Proc>,
    conf: PathBuf,
    /// The port it listens on.
    pub port: u16,
}

impl Mosquitto {
    /// Starts it with its configuration and log in `dir`; with `persistent`, its
    /// database too (saved on SIGTERM) and no limit on the messages it queues for a
    /// persistent session.
    pub fn start(dir: &Path, persistent: bool) -> Self {
        let port = free_port();
        // Started as root, mosquitto would drop to user `mosquitto` and then could
        // not write into our directory.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let mut conf = String::new();
        if root {
            conf.push_str("user root\n");
        }
        conf.push_str(&format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest file {}/mosquitto.log\n",
            dir.display()
        ));
        conf.push_str(&if persistent {
            format!(
                "persistence true\npersistence_location {}/\nmax_queued_messages 0\n",
                dir.display()
            )
        } else {
            "persistence false\n".to_string()
        });
        let path = dir.join("mosquitto.conf");
        std::fs::write(&path, conf).unwrap();
        let mut m = Self {
            proc: None,
            conf: path,
            port,
        };
        m.launch();
        m
    }

    /// Starts it (again) and waits until it accepts connections.
    pub fn launch(&mut self) {
        let mut proc = Proc::spawn(
            "mosquitto",
            Command::new("mosquitto").arg("-c").arg(&self.conf),
        );
        proc.wait_for_port(self.port, Duration::from_secs(10));
        self.proc = Some(proc);
    }

    /// SIGTERM and wait (mosquitto saves its database on the way out).
    pub fn stop(&mut self) {
        let mut proc = self.proc.take().expect("mosquitto is running");
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(proc.child.id().to_string())
            .status()
            .expect("run `kill`")
            .success();
        assert!(ok, "kill -TERM mosquitto failed");
        let status = proc.wait_exit(Duration::from_secs(10));
        assert!(
            status.success(),
            "mosquitto exited with {status} on SIGTERM"
        );
    }
}

/// One message the subscriber received (its `msg {json}` line).
pub struct Msg {
    pub topic: String,
    pub payload: Vec<u8>,
    pub dup: bool,
}

impl Msg {
    /// The message of a `msg ` line, `None` for the subscriber's other lines.
    pub fn parse(line: &str) -> Option<Self> {
        let json = line.strip_prefix("msg ")?;
        let v: Value = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("subscriber printed bad JSON ({e}): {json}"));
        Some(Self {
            topic: v["topic"].as_str().expect("topic").to_string(),
            payload: b64_decode(v["payload_b64"].as_str().expect("payload_b64")),
            dup: v["dup"].as_bool().unwrap_or(false),
        })
    }
}

/// The project's paho subscriber (`tests/paho_sub.py`, MQTT 3.1.1, QoS 1) and its
/// output.
pub struct PahoSub {
    proc: Proc,
    lines: Receiver<Line>,
    stderr: JoinHandle<String>,
    stdin: ChildStdin,
}

impl PahoSub {
    /// Subscribes to `filters` on 127.0.0.1:`port`, with paho_sub.py's `options`
    /// (`--client-id ID`, `--persistent`).
    pub fn start(python: &Path, options: &[&str], port: u16, filters: &[&str]) -> Self {
        let mut proc = Proc::spawn(
            "subscriber",
            Command::new(python)
                .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/paho_sub.py"))
                .args(options)
                .args(["127.0.0.1", &port.to_string()])
                .args(filters),
        );
        Self {
            lines: proc.lines(),
            stderr: proc.stderr(),
            stdin: proc.stdin(),
            proc,
        }
    }

    /// Passes its lines to `handle` until it says `subscribed` (within 20 s).
    pub fn until_subscribed(&self, mut handle: impl FnMut(Line)) {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let line = recv_line(
                &self.lines,
                left,
                "waiting for the subscriber's `subscribed`",
            );
            if line.1 == "subscribed" {
                return;
            }
            handle(line);
        }
    }

    /// Passes its lines to `handle` until none came for `quiet`; fails if it is not
    /// quiet within 15 s.
    pub fn until_quiet(&self, quiet: Duration, mut handle: impl FnMut(Line)) {
        let until = Instant::now() + Duration::from_secs(15);
        while let Ok(line) = self.lines.recv_timeout(quiet) {
            handle(line);
            assert!(Instant::now() < until, "the subscriber never went quiet");
        }
    }

    /// Closes its stdin (it disconnects and exits) and passes its last lines to
    /// `handle`; a problem if it exited badly or wrote to stderr.
    pub fn finish(mut self, mut handle: impl FnMut(Line)) -> Option<String> {
        drop(self.stdin);
        let status = self.proc.wait_exit(Duration::from_secs(10));
        self.lines.try_iter().for_each(&mut handle);
        let stderr = self.stderr.join().unwrap_or_default();
        (!status.success() || !stderr.trim().is_empty())
            .then(|| format!("subscriber exit {status}, stderr:\n{stderr}"))
    }
}

/// Standard base64 (RFC 4648, with padding), as Python's `base64.b64encode` writes it.
pub fn b64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 byte {c:#x} in {s}"),
        }
    };
    let bytes = s.as_bytes();
    assert_eq!(bytes.len() % 4, 0, "base64 length not a multiple of 4: {s}");
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for quad in bytes.chunks(4) {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | val(c);
        }
        n <<= 6 * pad as u32;
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - pad]);
    }
    out
}
