//! The recorded TLS session that `examples/qemu/src/bin/tls_handshake.rs` and
//! `bench_tls.rs` replay on the virtual boards: replayed here on the host too (so a
//! fixture that no longer matches the client fails in `cargo test`), and re-recorded against a real
//! `openssl s_server` with `cargo test -p ioto-transport --features tls --test tls_replay
//! -- --ignored record_fixture` (and with `tls-rsa`, `tls-p384` or both for
//! `fixtures/tls-rsa`, `tls-p384`, `tls-rsa-p384`).
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../../examples/qemu/src/bin/tls_common/replay.rs"]
#[allow(dead_code)]
mod replay;
mod tls_common;

use std::path::{Path, PathBuf};

use embassy_futures::block_on;
use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
use ioto_transport::tls::TlsError;
use replay::{READ_BUF, Recording, WRITE_BUF};
use tls_common::{Pki, StdStream, now_unix, openssl_server};

/// `fixtures/tls`, `tls-rsa`, `tls-p384` or `tls-rsa-p384`: the ClientHello offers
/// the RSA schemes only with `tls-rsa` and ECDSA P-384 only with `tls-p384`, so each
/// combination is a different session.
fn fixture_dir() -> PathBuf {
    let mut name = String::from("tls");
    if cfg!(feature = "tls-rsa") {
        name.push_str("-rsa");
    }
    if cfg!(feature = "tls-p384") {
        name.push_str("-p384");
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/qemu/fixtures")
        .join(name)
}

fn load(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("missing fixture {}: {e}", path.display()))
}

fn replay_with(recording: Recording<'_>) -> (Result<(), TlsError>, bool) {
    replay::run_session(recording)
}

fn recorded_now() -> u64 {
    u64::from_le_bytes(load("now.bin").try_into().unwrap())
}

#[test]
fn recorded_session_replays_on_the_host() {
    let (ca, client, server) = (load("ca.der"), load("client.bin"), load("server.bin"));
    let recording = Recording {
        ca: &ca,
        now_unix: recorded_now(),
        client: &client,
        server: &server,
    };
    assert_eq!(replay_with(recording), (Ok(()), true));
}

#[test]
fn recorded_session_is_rejected_when_the_clock_is_past_the_certificate() {
    let (ca, client, server) = (load("ca.der"), load("client.bin"), load("server.bin"));
    // The fixture's server certificate is valid for 30 days from recording.
    let later = recorded_now() + 31 * 24 * 3600;
    let recording = Recording {
        ca: &ca,
        now_unix: later,
        client: &client,
        server: &server,
    };
    assert_eq!(replay_with(recording).0, Err(TlsError::Expired));
}

#[test]
fn tampered_server_flight_is_rejected() {
    let (ca, client, mut server) = (load("ca.der"), load("client.bin"), load("server.bin"));
    // Flip one bit in the encrypted part of the server's flight.
    let i = server.len() / 2;
    server[i] ^= 1;
    let recording = Recording {
        ca: &ca,
        now_unix: recorded_now(),
        client: &client,
        server: &server,
    };
    assert!(replay_with(recording).0.is_err());
}

/// Records what the client writes and reads.
struct Recorder {
    inner: StdStream,
    client: Vec<u8>,
    server: Vec<u8>,
}

impl ErrorType for Recorder {
    type Error = ErrorKind;
}

impl Read for Recorder {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = self.inner.read(buf).await?;
        self.server.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Recorder {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        let n = self.inner.write(buf).await?;
        self.client.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        self.inner.flush().await
    }
}

#[test]
#[ignore = "rewrites the committed fixture; run by hand when the client's bytes change"]
fn record_fixture() {
    let pki = Pki::generate(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls_replay_pki"));
    let server = openssl_server(&pki.good, None);
    let ca = pki.ca.der();
    let now = now_unix();
    let mut recorder = Recorder {
        inner: StdStream::connect(server.port),
        client: Vec::new(),
        server: Vec::new(),
    };
    let mut read_buf = vec![0u8; READ_BUF];
    let mut write_buf = vec![0u8; WRITE_BUF];
    block_on(replay::session(
        &mut recorder,
        &ca,
        now,
        &mut read_buf,
        &mut write_buf,
    ))
    .unwrap();
    let dir = fixture_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.der"), &ca).unwrap();
    std::fs::write(dir.join("now.bin"), now.to_le_bytes()).unwrap();
    std::fs::write(dir.join("client.bin"), &recorder.client).unwrap();
    std::fs::write(dir.join("server.bin"), &recorder.server).unwrap();
}
