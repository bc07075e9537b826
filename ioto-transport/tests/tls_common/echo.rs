//! A TLS client session against `openssl s_server -rev` (the reversing echo server):
//! connect with [`tls::connect`], send one line, expect it back reversed.

use std::path::Path;

use embassy_futures::block_on;
use embedded_io_async::{Read, Write};
use ioto_transport::tls::{self, READ_BUF_FULL, TlsConfig, TlsError};
use rand_core::OsRng;

use super::{Leaf, StdStream, now_unix, openssl_server};

/// Connects to `port` with `config` and, on success, exchanges one line with the
/// reversing echo server.
pub async fn handshake_and_echo(
    port: u16,
    config: &TlsConfig<'_>,
    read_len: usize,
) -> Result<(), TlsError> {
    echo_line(
        port,
        config,
        read_len,
        b"hello from ioto",
        b"otoi morf olleh",
    )
    .await
}

/// Sends `line` and expects the server to answer `reversed` (both without newline).
pub async fn echo_line(
    port: u16,
    config: &TlsConfig<'_>,
    read_len: usize,
    line: &[u8],
    reversed: &[u8],
) -> Result<(), TlsError> {
    let mut read_buf = vec![0u8; read_len];
    let mut write_buf = vec![0u8; 4096];
    let mut stream = tls::connect(
        StdStream::connect(port),
        config,
        OsRng,
        &mut read_buf,
        &mut write_buf,
    )
    .await?;
    stream.write_all(line).await?;
    stream.write_all(b"\n").await?;
    stream.flush().await?;
    let mut got = Vec::new();
    let mut chunk = [0u8; 64];
    while !got.ends_with(b"\n") {
        let n = stream.read(&mut chunk).await?;
        assert!(n > 0, "server closed before answering; got {got:?}");
        got.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(&got[..got.len() - 1], reversed);
    Ok(())
}

/// Serves `leaf` (and `chain`) with `openssl s_server` and runs one echo session
/// trusting `ca` for `name`.
pub fn try_leaf(leaf: &Leaf, chain: Option<&Path>, ca: &[u8], name: &str) -> Result<(), TlsError> {
    let server = openssl_server(leaf, chain);
    let config = TlsConfig::new(ca, name, now_unix());
    block_on(handshake_and_echo(server.port, &config, READ_BUF_FULL))
}
