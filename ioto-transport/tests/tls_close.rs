//! How our TLS connections end (issue 11, item 11), seen by a real peer:
//! `openssl s_server -msg` prints every TLS message it receives, so its output shows
//! whether the client sent `close_notify` (RFC 8446 §6.1) when MQTT `disconnect()` and
//! HTTP `shutdown()` close a connection, and which alert it sent when it refused the
//! server's certificate (`unknown_ca`, `certificate_expired`, `bad_certificate`).
#![cfg(all(feature = "std", feature = "http"))]
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod common;
mod tls_common;

use std::io::{BufRead, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::{TokioStack, TokioTimer};
use embassy_futures::block_on;
use embedded_io_async::Read;
use ioto_board_host::platform::{HostDelay, TokioNet};
use ioto_board_host::{HostClock, HostEntropy};
use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};
use ioto_transport::http::{HttpClient, Request, TcpConnector};
use ioto_transport::mqtt::ProtocolVersion;
use ioto_transport::mqtt::client::{Buffers, Client, ClientConfig, Event};
use ioto_transport::mqtt::connector::TcpConnector as MqttTcp;
use ioto_transport::tls::{
    self, READ_BUF_FULL, TlsBuffers, TlsConfig, TlsError, TlsHttpConnector, TlsMqttConnector,
};
use rand_core::OsRng;
use tls_common::{Leaf, Pki, StdStream, now_unix};

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        Pki::generate(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls_close_pki"))
    })
}

/// `openssl s_server -tls1_3 -msg` on an ephemeral loopback port. Its output is kept
/// line by line; its stdin (what it sends to the client) is ours.
struct MsgServer {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
    stdin: Arc<Mutex<ChildStdin>>,
}

impl MsgServer {
    fn start(leaf: &Leaf) -> Self {
        let mut child = Command::new("openssl")
            .args(["s_server", "-tls1_3", "-msg", "-accept", "127.0.0.1:0"])
            .arg("-cert")
            .arg(&leaf.cert)
            .arg("-key")
            .arg(&leaf.key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start `openssl s_server`");
        let stdin = Arc::new(Mutex::new(child.stdin.take().unwrap()));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = Arc::clone(&lines);
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).split(b'\n') {
                    let Ok(line) = line else { break };
                    let line = String::from_utf8_lossy(&line).into_owned();
                    if let Some(addr) = line.strip_prefix("ACCEPT ") {
                        let _ = tx.send(addr.rsplit(':').next().unwrap().parse::<u16>().unwrap());
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let port = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("openssl s_server did not listen");
        Self {
            child,
            port,
            lines,
            stdin,
        }
    }

    /// Once a line for which `trigger` holds was printed, sends `answer` to the client.
    fn answer_when(&self, trigger: fn(&str) -> bool, answer: &'static [u8]) {
        let (lines, stdin) = (Arc::clone(&self.lines), Arc::clone(&self.stdin));
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if lines.lock().unwrap().iter().any(|l| trigger(l)) {
                    let mut stdin = stdin.lock().unwrap();
                    stdin.write_all(answer).unwrap();
                    stdin.flush().unwrap();
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
    }

    /// Waits until the server reports the connection closed (or failed), then
    /// returns every line it printed.
    fn after_close(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ended = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .any(|l| matches!(l.as_str(), "DONE" | "ERROR" | "CONNECTION CLOSED"));
            if ended || Instant::now() > deadline {
                // Let the other pipe's reader catch up.
                std::thread::sleep(Duration::from_millis(200));
                return self.lines.lock().unwrap().clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The alerts the server received (`-msg` lines `<<< TLS 1.3, Alert ..., <level>
    /// <description>`), e.g. `warning close_notify`, `fatal unknown_ca`.
    fn received_alerts(&self) -> Vec<String> {
        self.after_close()
            .iter()
            .filter(|l| l.starts_with("<<<") && l.contains(", Alert ["))
            .map(|l| l.rsplit("], ").next().unwrap_or("").trim().to_string())
            .collect()
    }
}

impl Drop for MsgServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connects to `server` trusting the test CA for `localhost`; the handshake's result.
fn handshake(server: &MsgServer) -> Result<(), TlsError> {
    let ca = pki().ca.pem();
    let config = TlsConfig::new(&ca, "localhost", now_unix());
    let mut read_buf = vec![0u8; READ_BUF_FULL];
    let mut write_buf = vec![0u8; 4096];
    block_on(tls::connect(
        StdStream::connect(server.port),
        &config,
        OsRng,
        &mut read_buf,
        &mut write_buf,
    ))
    .map(drop)
}

#[test]
fn a_certificate_from_an_unknown_ca_is_answered_with_unknown_ca() {
    let server = MsgServer::start(&pki().from_other_ca);
    assert_eq!(handshake(&server), Err(TlsError::UnknownCa));
    assert_eq!(server.received_alerts(), ["fatal unknown_ca"]);
}

#[test]
fn an_expired_certificate_is_answered_with_certificate_expired() {
    let server = MsgServer::start(&pki().expired);
    assert_eq!(handshake(&server), Err(TlsError::Expired));
    assert_eq!(server.received_alerts(), ["fatal certificate_expired"]);
}

#[test]
fn a_certificate_for_another_name_is_answered_with_bad_certificate() {
    let server = MsgServer::start(&pki().other_host);
    assert_eq!(handshake(&server), Err(TlsError::NameMismatch));
    assert_eq!(server.received_alerts(), ["fatal bad_certificate"]);
}

static NET: TokioNet = TokioNet;

#[tokio::test]
async fn mqtt_disconnect_sends_close_notify() {
    let server = MsgServer::start(&pki().good);
    // Once the client's Finished arrived, CONNACK (3.1.1, accepted): the client reads
    // it after sending CONNECT. (CONNECT has no newline, so it cannot be waited for
    // in the line-wise output.)
    server.answer_when(
        |l| l.starts_with("<<<") && l.ends_with("Finished"),
        &[0x20, 0x02, 0x00, 0x00],
    );
    let ca = pki().ca.pem();
    let (mut r, mut w) = (vec![0u8; READ_BUF_FULL], vec![0u8; 2048]);
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let connector = TlsMqttConnector::new(
        MqttTcp::new(&NET, &NET, "127.0.0.1", server.port),
        &buffers,
        &ca,
        "localhost",
        OsRng,
        now_unix,
    );
    let (mut rx, mut tx, mut inflight, mut ids, mut queue) = (
        vec![0u8; 4096],
        vec![0u8; 4096],
        vec![0u8; 4096],
        vec![0u16; 8],
        vec![0u8; 4096],
    );
    let mut cfg = ClientConfig::new(ProtocolVersion::V3_1_1, "ioto-close-test");
    cfg.connect_timeout_ms = 5_000;
    let mut client = Client::new(
        cfg,
        &connector,
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
            inflight: &mut inflight,
            incoming_qos2: &mut ids,
        },
        OfflineQueue::new(RamQueue::new(&mut queue, 16), QueuePolicy::DropOldest),
        HostDelay,
        HostClock::new(),
        HostEntropy::default(),
    );
    let event = tokio::time::timeout(Duration::from_secs(10), client.poll())
        .await
        .expect("no CONNACK")
        .unwrap();
    assert!(matches!(event, Event::Connected { .. }), "{event:?}");
    client.disconnect().await;
    assert!(!buffers.is_busy());
    let lines = server.after_close();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<<<") && l.ends_with("warning close_notify")),
        "s_server saw no close_notify:\n{}",
        lines.join("\n")
    );
}

#[tokio::test]
async fn http_shutdown_sends_close_notify() {
    static STACK: TokioStack = TokioStack;
    let server = MsgServer::start(&pki().good);
    server.answer_when(
        |l| l.starts_with("GET /close HTTP/1.1"),
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let ca = pki().ca.pem();
    let (mut r, mut w) = (vec![0u8; READ_BUF_FULL], vec![0u8; 2048]);
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let connector = TlsHttpConnector::new(
        TcpConnector::new(&STACK, &STACK),
        &buffers,
        &ca,
        OsRng,
        now_unix,
    );
    let mut client = HttpClient::new(connector, TokioTimer::new());
    let url = format!("https://localhost:{}/close", server.port);
    let mut head = [0u8; 512];
    let response = client.send(&Request::get(&url), &mut head).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut got = [0u8; 8];
    let mut n = 0;
    while n < 2 {
        let k = body.read(&mut got[n..]).await.unwrap();
        assert!(k > 0);
        n += k;
    }
    assert_eq!(&got[..n], b"ok");
    client.shutdown().await;
    assert!(!buffers.is_busy());
    let lines = server.after_close();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<<<") && l.ends_with("warning close_notify")),
        "s_server saw no close_notify:\n{}",
        lines.join("\n")
    );
}

/// `s_server`'s `K` command sends a KeyUpdate that requests ours (RFC 8446 §4.6.3): the
/// client moves to the server's next traffic key, answers with its own KeyUpdate and
/// moves its sending key too; data then flows both ways under the new keys.
#[test]
fn a_key_update_is_followed_and_answered() {
    use embedded_io_async::Write as _;
    let server = MsgServer::start(&pki().good);
    server.answer_when(|l| l.starts_with("<<<") && l.ends_with("Finished"), b"K\n");
    // Once our KeyUpdate arrived, a line under the server's new key.
    server.answer_when(
        |l| l.starts_with("<<<") && l.ends_with("KeyUpdate"),
        b"after update\n",
    );
    let ca = pki().ca.pem();
    let config = TlsConfig::new(&ca, "localhost", now_unix());
    let (mut read_buf, mut write_buf) = (vec![0u8; READ_BUF_FULL], vec![0u8; 4096]);
    let got = block_on(async {
        let mut tls = tls::connect(
            StdStream::connect(server.port),
            &config,
            OsRng,
            &mut read_buf,
            &mut write_buf,
        )
        .await?;
        let mut line = Vec::new();
        let mut chunk = [0u8; 64];
        while !line.ends_with(b"\n") {
            let n = tls.read(&mut chunk).await?;
            assert!(n > 0, "the server closed before its line");
            line.extend_from_slice(&chunk[..n]);
        }
        tls.write_all(b"ping under the new key\n").await?;
        tls.flush().await?;
        tls.close().await.map_err(|(_, e)| e)?;
        Ok::<_, TlsError>(line)
    });
    assert_eq!(got.unwrap(), b"after update\n");
    let lines = server.after_close();
    let saw = |prefix: &str, what: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(prefix) && l.ends_with(what))
    };
    assert!(
        saw(">>>", "KeyUpdate"),
        "no KeyUpdate sent:\n{}",
        lines.join("\n")
    );
    assert!(
        saw("<<<", "KeyUpdate"),
        "no KeyUpdate answered:\n{}",
        lines.join("\n")
    );
    assert!(
        lines.iter().any(|l| l == "ping under the new key"),
        "the server could not read the client's data:\n{}",
        lines.join("\n")
    );
}
