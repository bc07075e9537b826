//! WebSocket error paths a real server (Python `websockets`) never produces:
//! broken handshakes and frames that violate RFC 6455, fed from memory.
//! Each violation must give a typed error and a close frame with the right code.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

#[path = "common/mem.rs"]
mod mem;

use ioto_core::Entropy;
use ioto_transport::ws::{
    HandshakeOptions, Message, ProtocolViolation, WebSocket, WsConfig, WsError, accept_for,
    generate_key,
};
use mem::MemStream;

/// Deterministic entropy so the test knows the handshake key in advance.
#[derive(Clone)]
struct Counter(u8);

impl Entropy for Counter {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
    }
}

fn valid_101() -> String {
    let key = generate_key(&mut Counter(0));
    let accept = String::from_utf8(accept_for(&key).to_vec()).unwrap();
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )
}

async fn upgrade<'b>(
    server: &[u8],
    rx: &'b mut [u8],
) -> Result<WebSocket<'b, MemStream, Counter>, WsError> {
    let stream = MemStream::new(server, 5);
    WebSocket::upgrade(
        stream,
        "ws://example.com:8080/x",
        &HandshakeOptions::default(),
        WsConfig::default(),
        Counter(0),
        rx,
    )
    .await
}

/// Unmasks the last client frame in `written`, expected to be a close frame; returns its code.
fn last_close_code(written: &[u8]) -> Option<u16> {
    let pos = written
        .windows(2)
        .rposition(|w| w[0] == 0x88 && w[1] & 0x80 != 0)?;
    let len = usize::from(written[pos + 1] & 0x7F);
    let mask = &written[pos + 2..pos + 6];
    let payload: Vec<u8> = written[pos + 6..pos + 6 + len]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % 4])
        .collect();
    Some(u16::from_be_bytes([payload[0], payload[1]]))
}

#[tokio::test]
async fn handshake_request_and_response_checks() {
    let mut rx = [0u8; 512];
    let ws = upgrade(valid_101().as_bytes(), &mut rx).await.unwrap();
    let written = String::from_utf8(ws.into_inner().written).unwrap();
    let key = String::from_utf8(generate_key(&mut Counter(0)).to_vec()).unwrap();
    assert!(
        written.starts_with("GET /x HTTP/1.1\r\nHost: example.com:8080\r\n"),
        "{written}"
    );
    assert!(
        written.contains("\r\nUpgrade: websocket\r\n")
            && written.contains("\r\nSec-WebSocket-Version: 13\r\n")
    );
    assert!(written.contains(&format!("\r\nSec-WebSocket-Key: {key}\r\n")));
    assert!(written.ends_with("\r\n\r\n"));

    let bad = valid_101().replace("Sec-WebSocket-Accept: ", "Sec-WebSocket-Accept: x");
    assert_eq!(
        upgrade(bad.as_bytes(), &mut rx).await.err(),
        Some(WsError::BadAccept)
    );
    let bad = valid_101().replace("Upgrade: websocket\r\n", "");
    assert_eq!(
        upgrade(bad.as_bytes(), &mut rx).await.err(),
        Some(WsError::MissingUpgrade)
    );
    let bad = valid_101().replace(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
    );
    assert_eq!(
        upgrade(bad.as_bytes(), &mut rx).await.err(),
        Some(WsError::UnexpectedExtension)
    );
    let bad = valid_101().replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: chat\r\n\r\n");
    assert_eq!(
        upgrade(bad.as_bytes(), &mut rx).await.err(),
        Some(WsError::UnexpectedProtocol)
    );
    assert_eq!(
        upgrade(b"HTTP/1.1 101 OK\r\n", &mut rx)
            .await
            .err()
            .map(|e| matches!(e, WsError::Handshake(_))),
        Some(true)
    );
}

#[tokio::test]
async fn frames_arriving_with_the_handshake_response_are_kept() {
    let mut server = valid_101().into_bytes();
    server.extend_from_slice(&[0x81, 2, b'h', b'i', 0x82, 1, 7]);
    let mut rx = [0u8; 512];
    let mut ws = upgrade(&server, &mut rx).await.unwrap();
    let mut msg = [0u8; 16];
    assert_eq!(ws.receive(&mut msg).await, Ok(Message::Text("hi")));
    assert_eq!(ws.receive(&mut msg).await, Ok(Message::Binary(&[7])));
    assert_eq!(ws.receive(&mut msg).await, Err(WsError::ConnectionClosed));
}

#[tokio::test]
async fn protocol_violations_fail_the_connection_with_the_right_code() {
    let cases: &[(&[u8], WsError, u16)] = &[
        (
            &[0xC1, 0],
            WsError::Protocol(ProtocolViolation::ReservedBits),
            1002,
        ),
        (
            &[0x83, 0],
            WsError::Protocol(ProtocolViolation::UnknownOpcode),
            1002,
        ),
        (
            &[0x09, 0],
            WsError::Protocol(ProtocolViolation::BadControlFrame),
            1002,
        ),
        (
            &[0x89, 126, 0, 126],
            WsError::Protocol(ProtocolViolation::BadControlFrame),
            1002,
        ),
        (
            &[0x81, 0x81, 1, 2, 3, 4, b'a'],
            WsError::Protocol(ProtocolViolation::MaskedFrame),
            1002,
        ),
        (
            &[0x80, 1, b'a'],
            WsError::Protocol(ProtocolViolation::UnexpectedContinuation),
            1002,
        ),
        (
            &[0x01, 1, b'a', 0x81, 1, b'b'],
            WsError::Protocol(ProtocolViolation::ExpectedContinuation),
            1002,
        ),
        (
            &[0x88, 1, 3],
            WsError::Protocol(ProtocolViolation::BadClosePayload),
            1002,
        ),
        (
            &[0x88, 2, 0x03, 0xED],
            WsError::Protocol(ProtocolViolation::BadClosePayload),
            1002,
        ),
        (
            &[0x88, 4, 0x03, 0xE8, 0xFF, 0xFE],
            WsError::InvalidUtf8,
            1007,
        ),
        (&[0x81, 2, 0xC3, 0x28], WsError::InvalidUtf8, 1007),
        (
            &[0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0],
            WsError::FrameTooLarge,
            1009,
        ),
    ];
    for (frames, error, code) in cases {
        let stream = MemStream::new(frames, 3);
        let mut rx = [0u8; 64];
        let mut ws = WebSocket::from_upgraded(stream, Counter(9), &mut rx, WsConfig::default());
        let mut msg = [0u8; 32];
        assert_eq!(
            ws.receive(&mut msg).await.err(),
            Some(*error),
            "{frames:x?}"
        );
        assert!(ws.is_closed());
        assert_eq!(
            last_close_code(&ws.into_inner().written),
            Some(*code),
            "{frames:x?}"
        );
    }
}

#[tokio::test]
async fn close_without_code_and_control_frames_between_fragments() {
    // Fragment, ping, pong, fragment; then a close without status code.
    let frames = [
        0x01, 2, b'a', 0xC3, 0x89, 1, b'p', 0x8A, 0, 0x80, 1, 0xA9, 0x88, 0,
    ];
    let stream = MemStream::new(&frames, 1);
    let mut rx = [0u8; 16];
    let mut ws = WebSocket::from_upgraded(stream, Counter(1), &mut rx, WsConfig::default());
    let mut msg = [0u8; 8];
    assert_eq!(ws.receive(&mut msg).await, Ok(Message::Text("aé")));
    assert_eq!(ws.receive(&mut msg).await, Ok(Message::Close(None)));
    let written = ws.into_inner().written;
    // A masked pong carrying "p", then an empty masked close.
    assert_eq!(&written[..2], &[0x8A, 0x81]);
    assert_eq!(written[6] ^ written[2], b'p');
    assert_eq!(&written[7..9], &[0x88, 0x80]);
}
