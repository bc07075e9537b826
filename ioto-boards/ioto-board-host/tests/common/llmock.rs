//! llmock (PyPI) on an ephemeral loopback port, over HTTP or HTTPS.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::{Proc, free_port};

/// `$IOTO_PYTHON` (else the workspace's `.venv`) with llmock; fails loudly without.
pub fn python() -> PathBuf {
    super::python_with("llmock")
}

/// llmock answering "hello" at once, calling tools when asked (`auto`), killed on drop.
pub struct Llmock {
    proc: Proc,
    /// The loopback port it listens on.
    pub port: u16,
}

impl Llmock {
    /// llmock's own server over plain HTTP.
    pub fn start() -> Self {
        let port = free_port();
        let mut cmd = Command::new(python());
        cmd.args([
            "-c",
            "import sys; from llmock.cli import app; sys.argv[0] = 'llmock'; sys.exit(app())",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--latency-ms",
            "0",
            "--response-style",
            "hello",
            "--tool-mode",
            "auto",
        ]);
        Self::spawn(&mut cmd, port)
    }

    /// llmock's app served over HTTPS by uvicorn with `cert` and `key`.
    pub fn start_tls(cert: &Path, key: &Path) -> Self {
        let port = free_port();
        let mut cmd = Command::new(python());
        cmd.args(["-m", "uvicorn", "llmock.main:create_app", "--factory"])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--ssl-certfile")
            .arg(cert)
            .arg("--ssl-keyfile")
            .arg(key)
            .args(["--log-level", "warning"])
            .env("LLMOCK_LATENCY_MS", "0")
            .env("LLMOCK_RESPONSE_STYLE", "hello")
            .env("LLMOCK_TOOL_MODE", "auto");
        Self::spawn(&mut cmd, port)
    }

    /// Starts `cmd` and waits until `port` accepts connections.
    fn spawn(cmd: &mut Command, port: u16) -> Self {
        let mut proc = Proc::quiet("llmock", cmd);
        proc.wait_for_port(port, Duration::from_secs(30));
        Self { proc, port }
    }

    /// One HTTP/1.1 request to the control API of a plain-HTTP llmock (GET without a
    /// body, else POST).
    pub fn control(&self, path: &str, body: Option<&Value>) -> Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let method = if body.is_empty() { "GET" } else { "POST" };
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 2"), "{path}: {head}");
        // llmock answers with Content-Length (no chunking) for its control API.
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }
}
