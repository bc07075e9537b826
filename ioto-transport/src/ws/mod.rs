//! WebSocket client (RFC 6455): `no_std`, async, generic over the stream
//! (plain TCP for `ws://`, any TLS stream for `wss://`), caller-owned buffers.
//!
//! - Opening handshake with a random `Sec-WebSocket-Key` (from
//!   [`ioto_core::Entropy`]) and a checked `Sec-WebSocket-Accept`; optional
//!   subprotocols; extensions are refused.
//! - Masked client frames; text and binary messages; fragmentation in both
//!   directions, reassembled into the caller's buffer with a size limit.
//! - Pings answered automatically; close handshake with status codes.
//! - Text is UTF-8 validated as it arrives, also across fragment boundaries.
//! - Frames above [`WsConfig::max_frame_len`] are refused with
//!   [`WsError::FrameTooLarge`] (close code 1009).
//!
//! ```no_run
//! # async fn demo<T, D, E>(tcp: &T, dns: &D, entropy: E) -> Result<(), ioto_transport::ws::WsError>
//! # where T: embedded_nal_async::TcpConnect, D: embedded_nal_async::Dns, E: ioto_core::Entropy {
//! use ioto_transport::http::TcpConnector;
//! use ioto_transport::ws::{self, HandshakeOptions, Message, WsConfig};
//!
//! let mut connector = TcpConnector::new(tcp, dns);
//! let mut rx = [0u8; 512];
//! let mut ws = ws::connect(&mut connector, "ws://192.0.2.1:8080/chat",
//!     &HandshakeOptions::default(), WsConfig::default(), entropy, &mut rx).await?;
//! ws.send_text("hello").await?;
//! let mut msg = [0u8; 1024];
//! if let Message::Text(reply) = ws.receive(&mut msg).await? { /* ... */ let _ = reply; }
//! ws.close(1000, "bye").await?;
//! # Ok(()) }
//! ```

mod client;
pub mod frame;
mod handshake;

pub use client::{DataKind, WebSocket, WsConfig, connect};
pub use handshake::{HandshakeOptions, accept_for, generate_key};

use crate::http::{ConnectError, HttpError};
use embedded_io::ErrorKind;

/// A received message; borrows the buffer given to [`WebSocket::receive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'m> {
    /// A complete (reassembled) text message.
    Text(&'m str),
    /// A complete (reassembled) binary message.
    Binary(&'m [u8]),
    /// The server closed the connection (its close frame was answered);
    /// `None` when the frame carried no status code.
    Close(Option<CloseFrame<'m>>),
}

/// Status code and reason of a close frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseFrame<'m> {
    /// The status code (RFC 6455 section 7.4).
    pub code: u16,
    /// The reason text (empty if it did not fit the receive buffer).
    pub reason: &'m str,
}

/// Close status codes (RFC 6455 section 7.4.1).
pub mod close_code {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// The endpoint is going away.
    pub const GOING_AWAY: u16 = 1001;
    /// Protocol error.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Data of a type the endpoint cannot accept.
    pub const UNSUPPORTED: u16 = 1003;
    /// Data inconsistent with the message type (e.g. invalid UTF-8 in text).
    pub const INVALID_DATA: u16 = 1007;
    /// Policy violation.
    pub const POLICY: u16 = 1008;
    /// Message too big to process.
    pub const TOO_BIG: u16 = 1009;
    /// Unexpected condition on the server.
    pub const INTERNAL_ERROR: u16 = 1011;

    /// Whether `code` may appear in a close frame (1005, 1006, 1015 and
    /// unassigned ranges may not).
    pub const fn is_valid(code: u16) -> bool {
        matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

/// Rules of RFC 6455 a server frame broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolViolation {
    /// RSV1-3 set although no extension was negotiated.
    ReservedBits,
    /// An opcode RFC 6455 does not define.
    UnknownOpcode,
    /// A fragmented or longer than 125 bytes control frame.
    BadControlFrame,
    /// A 64-bit length with the top bit set.
    LengthOverflow,
    /// A masked frame from the server.
    MaskedFrame,
    /// A continuation frame without a message in progress.
    UnexpectedContinuation,
    /// A new text/binary frame while a fragmented message is in progress.
    ExpectedContinuation,
    /// A close frame with a 1-byte payload or an invalid status code.
    BadClosePayload,
}

/// Everything that can go wrong on a WebSocket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsError {
    /// Not a `ws://` / `wss://` URL.
    InvalidUrl,
    /// Opening the connection failed.
    Connect(ConnectError),
    /// Reading the handshake response failed or it is malformed.
    Handshake(HttpError),
    /// The server answered the upgrade with this status instead of 101.
    HandshakeStatus(u16),
    /// `Upgrade: websocket` or `Connection: Upgrade` missing in the response.
    MissingUpgrade,
    /// `Sec-WebSocket-Accept` missing or not matching our key.
    BadAccept,
    /// The server enabled an extension we did not offer.
    UnexpectedExtension,
    /// The server chose a subprotocol we did not offer.
    UnexpectedProtocol,
    /// A read or write failed.
    Io(ErrorKind),
    /// A read or write timed out (see [`TimedStream`](crate::http::TimedStream)).
    Timeout,
    /// The connection ended without a close handshake.
    ConnectionClosed,
    /// The receive buffer cannot hold a frame header (needs 14 bytes).
    BufferTooSmall,
    /// The server broke the protocol; the connection was closed with 1002.
    Protocol(ProtocolViolation),
    /// A frame longer than [`WsConfig::max_frame_len`]; closed with 1009.
    FrameTooLarge,
    /// A message longer than the receive buffer; closed with 1009.
    MessageTooLarge,
    /// Text (or a close reason) that is not UTF-8; closed with 1007.
    InvalidUtf8,
    /// A ping payload over 125 bytes or close reason over 123 bytes.
    ControlPayloadTooLong,
    /// A close code that may not be sent.
    InvalidCloseCode,
    /// The connection is closed.
    Closed,
}

impl WsError {
    fn from_io<E: embedded_io::Error>(e: E) -> Self {
        match e.kind() {
            ErrorKind::TimedOut => WsError::Timeout,
            kind => WsError::Io(kind),
        }
    }
}

impl core::fmt::Display for WsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

impl core::error::Error for WsError {}
