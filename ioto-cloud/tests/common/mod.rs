//! Test helpers: the project's Python, servers on ephemeral loopback ports killed on
//! drop, a host client.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use ioto_board_host::platform::{HostClock, HostDelay, StdHttp};
use ioto_cloud::Secret;
use ioto_cloud::builtins::{self, Actuator};
use ioto_cloud::client::{Api, Client, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::tools::ToolRegistry;
use std::cell::Cell;
pub mod nal;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3`; panics (never skips) if missing.
pub fn python() -> PathBuf {
    let p = std::env::var_os("IOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python3"));
    assert!(
        p.exists(),
        "Python with the test packages not found at {} — run `cargo xtask doctor --install` \
         (creates .venv from python/requirements.txt) or set IOTO_PYTHON",
        p.display()
    );
    p
}

/// A server process, killed (and reaped) on drop.
pub struct Server {
    process: Process,
    /// The port it listens on.
    pub port: u16,
}

/// A child this file started, or a shared peer (which stops itself).
enum Process {
    Child(Child),
    Peer(ioto_test_peers::llmock::Llmock),
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Process::Child(child) = &mut self.process {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Server {
    /// Starts `cmd`, which must print `PORT <n>` on its first stdout line, or — with
    /// `port` given — waits until that port accepts connections.
    fn wait_ready(mut child: Child, port: Option<u16>) -> Self {
        let port = match port {
            Some(p) => p,
            None => {
                let out = child.stdout.take().unwrap();
                let mut line = String::new();
                BufReader::new(out).read_line(&mut line).unwrap();
                line.trim()
                    .strip_prefix("PORT ")
                    .unwrap_or_else(|| panic!("bad server banner {line:?}"))
                    .parse()
                    .unwrap()
            }
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("server exited early with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "server on port {port} did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            process: Process::Child(child),
            port,
        }
    }

    /// llmock (PyPI) on an ephemeral loopback port (`ioto_test_peers`).
    pub fn llmock() -> Self {
        Self::peer(ioto_test_peers::llmock::Llmock::start(&python()))
    }

    /// llmock serving HTTPS itself (uvicorn's TLS, with `cert` and `key`) on an
    /// ephemeral loopback port, with the same settings as [`Server::llmock`].
    pub fn llmock_tls(cert: &std::path::Path, key: &std::path::Path) -> Self {
        Self::peer(ioto_test_peers::llmock::Llmock::start_tls(
            &python(),
            cert,
            key,
        ))
    }

    fn peer(started: Result<ioto_test_peers::llmock::Llmock, String>) -> Self {
        let peer = started.unwrap_or_else(|e| panic!("{e}"));
        Self {
            port: peer.port(),
            process: Process::Peer(peer),
        }
    }

    /// The scripted Realtime WebSocket peer (tests/realtime_peer.py).
    pub fn realtime() -> Self {
        Self::script("tests/realtime_peer.py")
    }

    /// Our fault-injecting server (tests/fault_server.py) on an ephemeral port.
    pub fn faults() -> Self {
        Self::script("tests/fault_server.py")
    }

    fn script(path: &str) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
        let child = Command::new(python())
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fault server");
        Self::wait_ready(child, None)
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    ioto_test_peers::free_port().unwrap_or_else(|e| panic!("{e}"))
}

/// The host client type.
pub type HostClient = Client<StdHttp, HostClock, HostDelay>;

/// A client for a local (plain-HTTP) endpoint.
pub fn client(base_url: &str, api: Api, key: &str) -> HostClient {
    let cfg = ClientConfig::new(Endpoint::local(base_url).unwrap(), api, Secret::new(key));
    client_with(cfg)
}

/// A client with a custom config.
pub fn client_with(cfg: ClientConfig) -> HostClient {
    Client::new(
        StdHttp::new(Duration::from_secs(10)),
        HostClock::new(),
        HostDelay,
        cfg,
    )
}

/// Runs a future to completion on this thread.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    embassy_futures::block_on(f)
}

/// A plain JSON request to a test server's control API (GET when `body` is None).
pub fn control(port: u16, path: &str, body: Option<&serde_json::Value>) -> serde_json::Value {
    use embedded_io_async::Read;
    use ioto_cloud::transport::{HttpRequest, HttpTransport, Method};
    let mut http = StdHttp::default();
    let ep = Endpoint::local(&format!("http://127.0.0.1:{port}")).unwrap();
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    block_on(async {
        let req = HttpRequest {
            method: if body.is_some() {
                Method::Post
            } else {
                Method::Get
            },
            endpoint: &ep,
            path,
            headers: &[("Content-Type", "application/json")],
            body: &bytes,
        };
        let mut resp = http.send(&req).await.unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = resp.body.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert!(
            (200..300).contains(&resp.status),
            "{path}: {}",
            String::from_utf8_lossy(&out)
        );
        serde_json::from_slice(&out).unwrap()
    })
}

/// Queues `behaviors` (llmock's scenario format) on the llmock `s` for its next requests.
pub fn script(s: &Server, behaviors: serde_json::Value) {
    control(
        s.port,
        "/_llmock/scenario",
        Some(&serde_json::json!({ "behaviors": behaviors })),
    );
}

/// The requests the llmock `s` received, oldest first.
pub fn requests(s: &Server) -> Vec<serde_json::Value> {
    control(s.port, "/_llmock/requests", None)["requests"]
        .as_array()
        .unwrap()
        .clone()
}

/// Two device tools for the tool-loop tests: `read_sensor` (temp 21.5, vibration 0.73)
/// and `set_actuator` for a `fan` of 0..=3000 rpm whose last setting lands in `fan`.
pub fn device_tools<'a>(fan: &'a Cell<f64>) -> ToolRegistry<'a> {
    device_tools_observed(fan, || {})
}

/// [`device_tools`], calling `on_read` each time `read_sensor` runs.
pub fn device_tools_observed<'a>(fan: &'a Cell<f64>, on_read: impl Fn() + 'a) -> ToolRegistry<'a> {
    let mut reg = ToolRegistry::new(8);
    builtins::read_sensor(&mut reg, &["temp", "vibration"], move |s| {
        on_read();
        Some(if s == "temp" { 21.5 } else { 0.73 })
    })
    .unwrap();
    builtins::set_actuator(
        &mut reg,
        &[Actuator {
            name: "fan",
            min: 0.0,
            max: 3000.0,
        }],
        move |_, v| {
            fan.set(v);
            Ok(())
        },
    )
    .unwrap();
    reg
}
