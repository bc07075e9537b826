//! The opening handshake (RFC 6455 section 4): an HTTP/1.1 `Upgrade` request
//! with a random `Sec-WebSocket-Key`, and a check of the server's `101`
//! response, including `Sec-WebSocket-Accept = base64(SHA-1(key + GUID))`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use embedded_io_async::{Read, Write};
use ioto_core::Entropy;
use sha1::{Digest as _, Sha1};

use super::WsError;
use crate::http::request::host_header;
use crate::http::{HeaderIter, Url, read_final_head};

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Length of a base64-encoded 16-byte key.
const KEY_LEN: usize = 24;
/// Length of a base64-encoded SHA-1 digest.
const ACCEPT_LEN: usize = 28;

/// What the client asks for in the handshake. `Debug` prints header names only (a
/// value may be a bearer token).
#[derive(Clone, Copy, Default)]
pub struct HandshakeOptions<'a> {
    /// Subprotocols offered in `Sec-WebSocket-Protocol`, in order of preference.
    pub protocols: &'a [&'a str],
    /// Extra request headers (for example `Authorization`).
    pub headers: &'a [(&'a str, &'a str)],
}

impl core::fmt::Debug for HandshakeOptions<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        struct Names<'h>(&'h [(&'h str, &'h str)]);
        impl core::fmt::Debug for Names<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(k, _)| (k, "[REDACTED]")))
                    .finish()
            }
        }
        f.debug_struct("HandshakeOptions")
            .field("protocols", &self.protocols)
            .field("headers", &Names(self.headers))
            .finish()
    }
}

/// The result of a successful handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Upgraded {
    /// Index into `HandshakeOptions::protocols` of the subprotocol the server chose.
    pub protocol: Option<usize>,
    /// `rx_buf[start..end]` holds frame bytes that arrived with the response.
    pub start: usize,
    pub end: usize,
}

/// A fresh random `Sec-WebSocket-Key`.
pub fn generate_key<E: Entropy>(entropy: &mut E) -> [u8; KEY_LEN] {
    let mut nonce = [0u8; 16];
    entropy.fill_bytes(&mut nonce);
    let mut key = [0u8; KEY_LEN];
    // 16 bytes always encode to exactly 24 characters.
    let _ = STANDARD.encode_slice(nonce, &mut key);
    key
}

/// The `Sec-WebSocket-Accept` value a server must answer `key` with.
pub fn accept_for(key: &[u8]) -> [u8; ACCEPT_LEN] {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let digest = sha.finalize();
    let mut out = [0u8; ACCEPT_LEN];
    // 20 bytes always encode to exactly 28 characters.
    let _ = STANDARD.encode_slice(digest, &mut out);
    out
}

/// Sends the upgrade request for `url` on `stream` and validates the response,
/// read into `rx_buf`.
pub(crate) async fn handshake<S: Read + Write, E: Entropy>(
    stream: &mut S,
    url: &Url<'_>,
    options: &HandshakeOptions<'_>,
    entropy: &mut E,
    rx_buf: &mut [u8],
) -> Result<Upgraded, WsError> {
    let key = generate_key(entropy);
    write_request(stream, url, options, &key).await?;
    let head = read_final_head(stream, rx_buf, false)
        .await
        .map_err(WsError::Handshake)?;
    if head.status != 101 {
        return Err(WsError::HandshakeStatus(head.status));
    }
    let headers = HeaderIter::new(rx_buf.get(..head.header_len).unwrap_or(&[]));
    let protocol = check_response(headers, &key, options.protocols)?;
    Ok(Upgraded {
        protocol,
        start: head.header_len,
        end: head.loaded,
    })
}

async fn write_request<S: Write>(
    stream: &mut S,
    url: &Url<'_>,
    options: &HandshakeOptions<'_>,
    key: &[u8; KEY_LEN],
) -> Result<(), WsError> {
    let host = host_header(url).map_err(|_| WsError::InvalidUrl)?;
    let key = core::str::from_utf8(key).map_err(|_| WsError::InvalidUrl)?;
    let mut parts: [&str; 9] = [
        "GET ",
        url.target,
        " HTTP/1.1\r\nHost: ",
        host.as_str(),
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n",
        "Sec-WebSocket-Key: ",
        key,
        "\r\n",
        "",
    ];
    if !options.protocols.is_empty() {
        parts[8] = "Sec-WebSocket-Protocol: ";
    }
    for part in parts {
        write_str(stream, part).await?;
    }
    for (i, p) in options.protocols.iter().enumerate() {
        write_str(stream, if i == 0 { "" } else { ", " }).await?;
        write_str(stream, p).await?;
    }
    if !options.protocols.is_empty() {
        write_str(stream, "\r\n").await?;
    }
    for (name, value) in options.headers {
        for part in [*name, ": ", *value, "\r\n"] {
            write_str(stream, part).await?;
        }
    }
    write_str(stream, "\r\n").await?;
    stream.flush().await.map_err(WsError::from_io)
}

async fn write_str<S: Write>(stream: &mut S, s: &str) -> Result<(), WsError> {
    stream
        .write_all(s.as_bytes())
        .await
        .map_err(WsError::from_io)
}

/// Checks the headers of a `101` response; returns the chosen subprotocol.
fn check_response(
    headers: HeaderIter<'_>,
    key: &[u8; KEY_LEN],
    protocols: &[&str],
) -> Result<Option<usize>, WsError> {
    let expected = accept_for(key);
    let (mut upgrade, mut connection, mut accept) = (false, false, false);
    let mut protocol = None;
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("upgrade") {
            upgrade = value.eq_ignore_ascii_case(b"websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            connection |= value
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"upgrade"));
        } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
            accept = value == expected.as_slice();
        } else if name.eq_ignore_ascii_case("sec-websocket-extensions") {
            return Err(WsError::UnexpectedExtension);
        } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            let chosen = protocols.iter().position(|p| p.as_bytes() == value);
            protocol = Some(chosen.ok_or(WsError::UnexpectedProtocol)?);
        }
    }
    if !upgrade || !connection {
        return Err(WsError::MissingUpgrade);
    }
    if !accept {
        return Err(WsError::BadAccept);
    }
    Ok(protocol)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_header_names_not_values() {
        extern crate std;
        let opts = HandshakeOptions {
            protocols: &["realtime"],
            headers: &[("Authorization", "Bearer sk-TESTKEY-1234")],
        };
        let text = std::format!("{opts:?}");
        assert!(!text.contains("sk-TESTKEY-1234"), "{text}");
        assert!(text.contains("\"Authorization\": \"[REDACTED]\""), "{text}");
        assert!(text.contains("realtime"), "{text}");
    }

    #[test]
    fn accept_matches_rfc6455_example() {
        // RFC 6455 section 1.3.
        assert_eq!(
            &accept_for(b"dGhlIHNhbXBsZSBub25jZQ=="),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
