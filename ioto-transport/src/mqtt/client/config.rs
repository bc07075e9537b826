//! What the application configures and what the client reports back.

use crate::mqtt::packet::{LastWill, Publish, SubAck};
use crate::mqtt::types::{ProtocolVersion, ReasonCode};
use crate::mqtt::wire::{DecodeError, EncodeError};

/// Session handling at connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionMode {
    /// Start a fresh session on every connect (clean session / clean start).
    Clean,
    /// Resume the stored session on reconnects: clean start off, and with MQTT 5.0 the
    /// broker keeps the session for `expiry_secs` after a disconnect.
    Persistent {
        /// MQTT 5.0 session expiry interval in seconds (`u32::MAX` = never).
        expiry_secs: u32,
    },
}

pub use ioto_core::backoff::Backoff;

/// Client settings. Strings are borrowed for the client's lifetime. `Debug` prints
/// whether a password is set, never the password.
#[derive(Clone, Copy)]
pub struct ClientConfig<'a> {
    /// Protocol version used on every connection.
    pub version: ProtocolVersion,
    /// Client identifier (must be non-empty for persistent sessions).
    pub client_id: &'a str,
    /// User name.
    pub username: Option<&'a str>,
    /// Password.
    pub password: Option<&'a [u8]>,
    /// Keep-alive interval in seconds (0 = off; then dead peers are not detected).
    pub keep_alive_secs: u16,
    /// How long to wait for any packet after a PINGREQ before declaring the connection
    /// dead, in milliseconds.
    pub ping_timeout_ms: u32,
    /// Timeout for TCP connect + CONNECT/CONNACK, in milliseconds.
    pub connect_timeout_ms: u32,
    /// Timeout for writing one packet, in milliseconds (a peer that stopped reading).
    pub write_timeout_ms: u32,
    /// How long [`crate::mqtt::client::Client::disconnect`] waits for in-flight
    /// QoS 1/2 handshakes (both directions) to finish before sending DISCONNECT, in
    /// milliseconds; publishes still unacknowledged then are re-sent on the next
    /// connection.
    pub disconnect_timeout_ms: u32,
    /// Clean or persistent session.
    pub session: SessionMode,
    /// Last will, published by the broker if we vanish.
    pub will: Option<LastWill<'a>>,
    /// Most QoS 1/2 publishes in flight (further ones wait in the offline queue); the
    /// broker's MQTT 5.0 receive maximum lowers it.
    pub max_inflight: u16,
    /// Reconnect backoff.
    pub backoff: Backoff,
}

impl<'a> ClientConfig<'a> {
    /// Defaults: keep-alive 60 s, ping timeout 10 s, connect timeout 10 s, write timeout
    /// 10 s, disconnect timeout 2 s, clean session, no will, 16 in flight, backoff
    /// 500 ms .. 30 s.
    pub const fn new(version: ProtocolVersion, client_id: &'a str) -> Self {
        ClientConfig {
            version,
            client_id,
            username: None,
            password: None,
            keep_alive_secs: 60,
            ping_timeout_ms: 10_000,
            connect_timeout_ms: 10_000,
            write_timeout_ms: 10_000,
            disconnect_timeout_ms: 2_000,
            session: SessionMode::Clean,
            will: None,
            max_inflight: 16,
            backoff: Backoff {
                base_ms: 500,
                max_ms: 30_000,
            },
        }
    }
}

impl core::fmt::Debug for ClientConfig<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("version", &self.version)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.map(|_| "[REDACTED]"))
            .field("keep_alive_secs", &self.keep_alive_secs)
            .field("ping_timeout_ms", &self.ping_timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("write_timeout_ms", &self.write_timeout_ms)
            .field("disconnect_timeout_ms", &self.disconnect_timeout_ms)
            .field("session", &self.session)
            .field("will", &self.will)
            .field("max_inflight", &self.max_inflight)
            .field("backoff", &self.backoff)
            .finish()
    }
}

/// Optional fields of one publish (MQTT 5.0 properties are ignored under 3.1.1).
#[derive(Clone, Copy, Debug, Default)]
pub struct PublishOptions<'a> {
    /// Retain the message.
    pub retain: bool,
    /// Message expiry interval, seconds.
    pub message_expiry_secs: Option<u32>,
    /// Content type (e.g. a MIME type).
    pub content_type: Option<&'a str>,
    /// Payload is UTF-8 text (payload format indicator 1).
    pub utf8_payload: bool,
    /// Response topic for request/response.
    pub response_topic: Option<&'a str>,
    /// Correlation data for request/response.
    pub correlation_data: Option<&'a [u8]>,
    /// User properties.
    pub user_properties: &'a [(&'a str, &'a str)],
    /// Topic alias (1..=broker's topic alias maximum). The application keeps the alias
    /// bound to one topic; after the first publish on a connection the topic name is
    /// left out.
    pub topic_alias: Option<u16>,
}

/// Where a publish went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publication {
    /// Written to the connection; QoS 1/2 ones carry their packet id and are re-sent
    /// after a reconnect until acknowledged.
    Sent {
        /// Packet identifier (0 for QoS 0).
        packet_id: u16,
    },
    /// Stored in the offline queue; sent in order once connected and the window allows.
    /// A QoS 1/2 publish gets its packet id when it leaves the queue; its outcome is an
    /// [`Event::Published`] like any other (including a refusal by the client when the
    /// broker's maximum packet size, learnt at connect, is too small for it). QoS 0
    /// ones are reported only when refused (packet id 0).
    Queued,
    /// Dropped because the queue was full and its policy is drop-newest.
    Discarded,
}

/// Why a connection ended (reported by [`crate::mqtt::client::Client::poll`]; the
/// client reconnects on the next poll).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The peer closed the TCP connection.
    Closed,
    /// A read or write failed.
    Io(embedded_io::ErrorKind),
    /// No packet arrived within the ping timeout after a PINGREQ.
    KeepAliveTimeout,
    /// A write did not complete within the write timeout.
    WriteTimeout,
    /// The broker sent DISCONNECT with this reason code.
    Server(ReasonCode),
    /// The broker sent something malformed or out of protocol.
    Protocol(DecodeError),
    /// The broker sent a packet larger than the receive buffer.
    PacketTooLarge,
    /// A `poll` or `publish` future was dropped in the middle of a write, so the
    /// stream may hold half a packet; the connection is replaced.
    Interrupted,
}

/// Why a connection attempt failed (the client retries with backoff).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectFailure {
    /// DNS or TCP (or TLS) connect failed.
    Connect(embedded_io::ErrorKind),
    /// No CONNACK within the connect timeout.
    Timeout,
    /// The broker refused with this return / reason code.
    Refused(ReasonCode),
    /// The connection failed during the handshake.
    Disconnected(DisconnectReason),
}

/// What [`crate::mqtt::client::Client::poll`] reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event<'a> {
    /// Connected; `session_present` tells whether the broker resumed our session (if
    /// not, subscriptions must be made again).
    Connected {
        /// The broker had a stored session.
        session_present: bool,
    },
    /// A connection attempt failed; the next poll retries after a backoff.
    ConnectFailed(ConnectFailure),
    /// The connection ended; the next poll reconnects after a backoff.
    Disconnected(DisconnectReason),
    /// An application message (already acknowledged to the broker; QoS 2 duplicates
    /// are filtered out).
    Message(Publish<'a>),
    /// A QoS 1 publish got its PUBACK or a QoS 2 publish its PUBCOMP, or an MQTT 5.0
    /// broker refused it (PUBACK / PUBREC reason code >= 0x80), or the client refused
    /// a queued publish when it was due to leave the queue.
    ///
    /// Client-side refusals of queued publishes (nothing was sent): reason
    /// [`ReasonCode::PACKET_TOO_LARGE`] when the packet exceeds the broker's Maximum
    /// Packet Size (MQTT 5.0 CONNACK; unknown while the publish was queued — publishes
    /// made while the limit is known fail with [`Error::TooLarge`] instead) or the
    /// transmit / in-flight buffers, [`ReasonCode::MALFORMED_PACKET`] for an unreadable
    /// queue record. The packet id is the one the publish was given on leaving the
    /// queue, 0 for QoS 0. Each queued publish thus ends in exactly one outcome
    /// (QoS 0: none when sent), whatever the timing.
    ///
    /// Outcomes of handshakes finished inside
    /// [`crate::mqtt::client::Client::disconnect`] are reported by the next poll, before
    /// it reconnects.
    Published {
        /// Packet identifier of the publish.
        packet_id: u16,
        /// Reason code from the broker (success for 3.1.1).
        reason: ReasonCode,
    },
    /// SUBACK: one granted QoS or failure code per filter.
    Subscribed(SubAck<'a>),
    /// UNSUBACK.
    Unsubscribed(SubAck<'a>),
}

/// Errors returned to the caller of a client method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The operation needs a connection (subscribe/unsubscribe while offline).
    NotConnected,
    /// The connection broke while sending; poll to reconnect.
    ConnectionLost,
    /// The offline queue is full and its policy is reject.
    QueueFull,
    /// The packet exceeds the transmit buffer, the queue or the in-flight store, or
    /// the broker's maximum packet size.
    TooLarge,
    /// Topic alias 0, above the broker's maximum, or an empty topic without alias.
    BadTopicAlias,
    /// The packet could not be encoded (e.g. wildcard in a topic name).
    Encode(EncodeError),
    /// The offline queue's storage failed.
    Storage,
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::BufferTooSmall | EncodeError::FieldTooLong => Error::TooLarge,
            other => Error::Encode(other),
        }
    }
}

/// Counters for diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Successful connections.
    pub connects: u32,
    /// Connections lost or failed attempts.
    pub disconnects: u32,
    /// QoS 1/2 publishes re-sent after a reconnect.
    pub resent: u32,
    /// Incoming QoS 2 duplicates suppressed.
    pub duplicates_suppressed: u32,
}

#[cfg(test)]
mod debug_tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn debug_never_prints_the_password() {
        let mut cfg = ClientConfig::new(ProtocolVersion::V5, "dev-1");
        cfg.username = Some("user");
        cfg.password = Some(b"sk-TESTKEY-1234");
        let text = format!("{cfg:?}");
        assert!(!text.contains("sk-TESTKEY-1234"), "{text}");
        assert!(
            !text.contains("115, 107, 45"),
            "password bytes printed: {text}"
        );
        assert!(text.contains("password: Some(\"[REDACTED]\")"), "{text}");
        assert!(text.contains("\"user\""), "{text}");
    }
}
