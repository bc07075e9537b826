//! The small value types every MQTT layer shares: [`ProtocolVersion`], [`QoS`] and
//! [`ReasonCode`]. They sit below the packet layouts (`packet`, `connect`, `publish`,
//! `subscribe`) and the client, and depend only on [`wire`](super::wire) errors, so no
//! packet file needs to import another to name them.

use super::wire::DecodeError;

/// The protocol version, chosen when connecting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// MQTT 3.1.1 (protocol level 4).
    V3_1_1,
    /// MQTT 5.0 (protocol level 5).
    V5,
}

impl ProtocolVersion {
    /// The protocol level byte carried in CONNECT.
    pub const fn level(self) -> u8 {
        match self {
            ProtocolVersion::V3_1_1 => 4,
            ProtocolVersion::V5 => 5,
        }
    }

    /// True for MQTT 5.0.
    pub const fn is_v5(self) -> bool {
        matches!(self, ProtocolVersion::V5)
    }
}

/// Quality of service of a publish or subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QoS {
    /// At most once (fire and forget).
    AtMostOnce = 0,
    /// At least once (PUBACK).
    AtLeastOnce = 1,
    /// Exactly once (PUBREC / PUBREL / PUBCOMP).
    ExactlyOnce = 2,
}

impl QoS {
    /// Parses the two QoS bits; 3 is an error.
    pub const fn from_bits(bits: u8) -> Result<Self, DecodeError> {
        match bits {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            2 => Ok(QoS::ExactlyOnce),
            other => Err(DecodeError::BadQos(other)),
        }
    }
}

/// An MQTT 5.0 reason code (or a 3.1.1 CONNACK return code / SUBACK result).
/// Values below 0x80 mean success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReasonCode(pub u8);

impl ReasonCode {
    /// Success / normal disconnection / granted QoS 0.
    pub const SUCCESS: ReasonCode = ReasonCode(0x00);
    /// PUBACK/PUBREC: the broker accepted the message but no one subscribes.
    pub const NO_MATCHING_SUBSCRIBERS: ReasonCode = ReasonCode(0x10);
    /// Unspecified error.
    pub const UNSPECIFIED_ERROR: ReasonCode = ReasonCode(0x80);
    /// Malformed packet.
    pub const MALFORMED_PACKET: ReasonCode = ReasonCode(0x81);
    /// Protocol error.
    pub const PROTOCOL_ERROR: ReasonCode = ReasonCode(0x82);
    /// Packet identifier not found (PUBREL/PUBCOMP for an unknown id).
    pub const PACKET_ID_NOT_FOUND: ReasonCode = ReasonCode(0x92);
    /// Keep alive timeout.
    pub const KEEP_ALIVE_TIMEOUT: ReasonCode = ReasonCode(0x8D);
    /// Packet too large.
    pub const PACKET_TOO_LARGE: ReasonCode = ReasonCode(0x95);
    /// Disconnect with will message.
    pub const DISCONNECT_WITH_WILL: ReasonCode = ReasonCode(0x04);

    /// True for codes below 0x80.
    pub const fn is_success(self) -> bool {
        self.0 < 0x80
    }
}
