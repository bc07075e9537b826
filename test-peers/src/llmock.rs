//! llmock (PyPI), an OpenAI-compatible server that answers at once ("hello" text, tool
//! calls when tools are offered), over plain HTTP (its own server) or HTTPS (its app
//! under uvicorn with a certificate), scripted through its control API.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::{Error, Peer, free_port};

/// A running llmock on an ephemeral loopback port, killed on drop.
#[derive(Debug)]
pub struct Llmock {
    peer: Peer,
}

impl Llmock {
    /// llmock's own server over plain HTTP, run by `python` (which must import llmock).
    pub fn start(python: &Path) -> Result<Llmock, Error> {
        let port = free_port()?;
        let mut cmd = Command::new(python);
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
        Self::answering(Peer::spawn("llmock", &mut cmd, port)?)
    }

    /// `peer`, once its control API answers: a port that accepts connections is not
    /// yet a server that answers them (a request sent in between was seen to fail
    /// with a reset connection on a loaded machine).
    fn answering(peer: Peer) -> Result<Llmock, Error> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match requests(peer.port()) {
                Ok(_) => return Ok(Llmock { peer }),
                Err(e) if std::time::Instant::now() > deadline => {
                    return Err(format!(
                        "llmock accepts connections but does not answer: {e}"
                    ));
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
    }

    /// llmock's app served over HTTPS by uvicorn with `cert` and `key` (PEM), with the
    /// settings of [`Llmock::start`]; `python` must import llmock and uvicorn.
    pub fn start_tls(python: &Path, cert: &Path, key: &Path) -> Result<Llmock, Error> {
        let port = free_port()?;
        let mut cmd = Command::new(python);
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
        Ok(Llmock {
            peer: Peer::spawn("llmock (uvicorn with TLS)", &mut cmd, port)?,
        })
    }

    /// Starts `cmd`, any server of llmock's app whose plain-HTTP control API will listen
    /// on loopback `port` (e.g. one process serving it over HTTPS and HTTP), and waits
    /// until it answers.
    pub fn spawn(cmd: &mut Command, port: u16) -> Result<Llmock, Error> {
        Self::answering(Peer::spawn("llmock", cmd, port)?)
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.peer.port()
    }

    /// [`control`] on this (plain-HTTP) server.
    pub fn control(&self, path: &str, body: Option<&Value>) -> Result<Value, Error> {
        control(self.port(), path, body)
    }

    /// Queues `behaviors` (llmock's scenario format) for the next requests.
    pub fn script(&self, behaviors: Value) -> Result<(), Error> {
        self.control(
            "/_llmock/scenario",
            Some(&json!({ "behaviors": behaviors })),
        )
        .map(|_| ())
    }

    /// The requests it received, oldest first (method, path, body, status...).
    pub fn requests(&self) -> Result<Vec<Value>, Error> {
        requests(self.port())
    }
}

/// One HTTP/1.1 request to the control API of the plain-HTTP llmock on loopback `port`
/// (POST with a body, else GET); its JSON answer, or an error for a non-2xx status.
pub fn control(port: u16, path: &str, body: Option<&Value>) -> Result<Value, Error> {
    let fail = |e: &dyn std::fmt::Display| format!("llmock {path}: {e}");
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| fail(&e))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let method = if body.is_empty() { "GET" } else { "POST" };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| fail(&e))?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| fail(&e))?;
    let (head, body) = out
        .split_once("\r\n\r\n")
        .ok_or_else(|| fail(&"no HTTP head"))?;
    if !head.starts_with("HTTP/1.1 2") {
        return Err(fail(&head.lines().next().unwrap_or(head)));
    }
    // llmock answers its control API with Content-Length (no chunking).
    serde_json::from_str(body).map_err(|e| fail(&format!("{e}: {body}")))
}

/// The requests the llmock on loopback `port` received, oldest first.
pub fn requests(port: u16) -> Result<Vec<Value>, Error> {
    let all = control(port, "/_llmock/requests", None)?;
    all["requests"]
        .as_array()
        .cloned()
        .ok_or_else(|| format!("llmock's request log is not a list: {all}"))
}
