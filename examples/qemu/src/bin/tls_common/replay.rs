//! Replays a TLS 1.3 session recorded against `openssl s_server` (see
//! `examples/qemu/fixtures/tls/README.md`) so a full handshake — ECDHE, the server's
//! certificate chain, CertificateVerify, Finished — runs on a board with no network.
//!
//! The client side is deterministic: [`SEED`] feeds a ChaCha20 generator, so the client
//! writes byte-for-byte what it wrote during the recording, and the recorded server
//! bytes (bound to that transcript) verify. Every byte the client writes is compared
//! with the recording; a difference is an error, so a replay cannot pass by accident.

use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
use ioto_transport::tls::{self, MaxFragmentLength, TlsConfig, TlsError};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// The RNG seed used both when recording and when replaying.
pub const SEED: [u8; 32] = *b"ioto-rs tls replay fixture seed!";
/// The server name the session was recorded with.
pub const SERVER_NAME: &str = "localhost";
/// The line the client sends; `s_server -rev` answers it reversed.
pub const REQUEST: &[u8] = b"hello from ioto\n";
/// The answer recorded from `openssl s_server -rev`.
pub const RESPONSE: &[u8] = b"otoi morf olleh\n";

/// The read buffer: one 4 KiB record (max_fragment_length 2^12) plus overhead.
pub const READ_BUF: usize = 4096 + 256;
/// The write buffer.
pub const WRITE_BUF: usize = 1024;

/// The session recorded in `examples/qemu/fixtures/<dir>/`.
#[cfg(target_os = "none")]
macro_rules! recording {
    ($dir:literal) => {
        Recording {
            ca: include_bytes!(concat!("../../../fixtures/", $dir, "/ca.der")),
            now_unix: u64::from_le_bytes(*include_bytes!(concat!(
                "../../../fixtures/",
                $dir,
                "/now.bin"
            ))),
            client: include_bytes!(concat!("../../../fixtures/", $dir, "/client.bin")),
            server: include_bytes!(concat!("../../../fixtures/", $dir, "/server.bin")),
        }
    };
}

/// The session recorded in `examples/qemu/fixtures/tls/` (firmware only: the host
/// test reads the files at run time).
#[cfg(all(
    target_os = "none",
    not(feature = "tls-rsa"),
    not(feature = "tls-p384")
))]
pub const RECORDING: Recording<'static> = recording!("tls");

/// The ClientHello offers the RSA schemes only with `tls-rsa` and
/// `ecdsa_secp384r1_sha384` only with `tls-p384`, so each combination is its own
/// session: `fixtures/tls-rsa/`, `fixtures/tls-p384/`, `fixtures/tls-rsa-p384/`.
#[cfg(all(target_os = "none", feature = "tls-rsa", not(feature = "tls-p384")))]
pub const RECORDING: Recording<'static> = recording!("tls-rsa");

/// See above: `tls-p384` without `tls-rsa`.
#[cfg(all(target_os = "none", not(feature = "tls-rsa"), feature = "tls-p384"))]
pub const RECORDING: Recording<'static> = recording!("tls-p384");

/// See above: both `tls-rsa` and `tls-p384`.
#[cfg(all(target_os = "none", feature = "tls-rsa", feature = "tls-p384"))]
pub const RECORDING: Recording<'static> = recording!("tls-rsa-p384");

/// One recorded session.
#[derive(Clone, Copy)]
pub struct Recording<'a> {
    /// The trust anchor (DER).
    pub ca: &'a [u8],
    /// Seconds since the Unix epoch at recording time.
    pub now_unix: u64,
    /// Every byte the client wrote, in order.
    pub client: &'a [u8],
    /// Every byte the client read, in order.
    pub server: &'a [u8],
}

/// A stream that serves [`Recording::server`] and checks writes against
/// [`Recording::client`].
pub struct ReplayStream<'a> {
    recording: Recording<'a>,
    read_at: usize,
    write_at: usize,
}

impl<'a> ReplayStream<'a> {
    /// Starts replaying `recording` from its first byte.
    pub fn new(recording: Recording<'a>) -> Self {
        Self {
            recording,
            read_at: 0,
            write_at: 0,
        }
    }

    /// Whether the client wrote exactly what was recorded and read all of it.
    pub fn finished(&self) -> bool {
        self.read_at == self.recording.server.len() && self.write_at == self.recording.client.len()
    }
}

impl ErrorType for ReplayStream<'_> {
    type Error = ErrorKind;
}

impl Read for ReplayStream<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let rest = self.recording.server.get(self.read_at..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.read_at += n;
        Ok(n)
    }
}

impl Write for ReplayStream<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        let end = self.write_at + buf.len();
        match self.recording.client.get(self.write_at..end) {
            Some(expected) if expected == buf => {
                self.write_at = end;
                Ok(buf.len())
            }
            _ => Err(ErrorKind::InvalidData),
        }
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// Runs the recorded session over `stream`: handshake (with the settings the fixture
/// was recorded with), one request, one response.
pub async fn session<S: Read + Write>(
    stream: S,
    ca: &[u8],
    now_unix: u64,
    read_buf: &mut [u8],
    write_buf: &mut [u8],
) -> Result<(), TlsError> {
    let config = TlsConfig {
        max_fragment_length: Some(MaxFragmentLength::Bits12),
        ..TlsConfig::new(ca, SERVER_NAME, now_unix)
    };
    let rng = ChaCha20Rng::from_seed(SEED);
    let mut tls = tls::connect(stream, &config, rng, read_buf, write_buf).await?;
    tls.write_all(REQUEST).await?;
    tls.flush().await?;
    let mut got = [0u8; 32];
    let mut len = 0;
    while !got[..len].ends_with(b"\n") {
        let n = tls.read(&mut got[len..]).await?;
        if n == 0 {
            return Err(TlsError::Closed);
        }
        len += n;
    }
    if &got[..len] == RESPONSE {
        Ok(())
    } else {
        Err(TlsError::Protocol)
    }
}

/// Replays `recording` with caller-provided buffers; returns the session's result and
/// whether the whole recording was consumed. Never inlined, so that the session's
/// future (and the connection state in it) is on the stack below the caller's frame,
/// where `bench_tls` measures.
#[inline(never)]
pub fn run_session_with(
    recording: Recording<'_>,
    read_buf: &mut [u8],
    write_buf: &mut [u8],
) -> (Result<(), TlsError>, bool) {
    let mut stream = ReplayStream::new(recording);
    let result = embassy_futures::block_on(session(
        &mut stream,
        recording.ca,
        recording.now_unix,
        read_buf,
        write_buf,
    ));
    (result, stream.finished())
}

/// Replays `recording` with record buffers on the stack.
#[allow(dead_code)] // used by tls_handshake and the host test, not by bench_tls
pub fn run_session(recording: Recording<'_>) -> (Result<(), TlsError>, bool) {
    let mut read_buf = [0u8; READ_BUF];
    let mut write_buf = [0u8; WRITE_BUF];
    run_session_with(recording, &mut read_buf, &mut write_buf)
}
