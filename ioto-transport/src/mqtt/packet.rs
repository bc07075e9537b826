//! MQTT control packets of protocol 3.1.1 and 5.0: the fixed header, the packet enum
//! and the top-level [`decode`] / [`Packet::encode`] entry points. The per-packet
//! layouts live in `connect.rs`, `publish.rs` and `subscribe.rs`.

use super::properties::Properties;
use super::wire::{
    DecodeError, EncodeError, MAX_VAR_INT, Reader, Writer, decode_var_int, var_int_len,
};

pub use super::connect::{ConnAck, Connect, LastWill};
pub use super::publish::{Ack, Publish};
pub use super::subscribe::{
    RetainHandling, SubAck, Subscribe, SubscribeOptions, Subscription, SubscriptionList, TopicList,
    Unsubscribe,
};
pub use super::types::{ProtocolVersion, QoS, ReasonCode};

/// DISCONNECT (both directions) and AUTH (MQTT 5.0 only).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReasonOnly<'a> {
    /// Why (always success for 3.1.1, which has no reason codes).
    pub reason: ReasonCode,
    /// MQTT 5.0 properties (session expiry, reason string, server reference...).
    pub properties: Properties<'a>,
}

/// One MQTT control packet, borrowing strings and payloads from the buffer it was
/// decoded from (or from the application when encoding).
#[derive(Clone, Copy, Debug, PartialEq)]
// CONNECT carries two property sets; boxing is not an option without an allocator and
// packets live on the stack only briefly.
#[allow(clippy::large_enum_variant)]
pub enum Packet<'a> {
    /// CONNECT (client to server).
    Connect(Connect<'a>),
    /// CONNACK.
    ConnAck(ConnAck<'a>),
    /// PUBLISH.
    Publish(Publish<'a>),
    /// PUBACK (QoS 1 acknowledgement).
    PubAck(Ack<'a>),
    /// PUBREC (QoS 2, part 1).
    PubRec(Ack<'a>),
    /// PUBREL (QoS 2, part 2).
    PubRel(Ack<'a>),
    /// PUBCOMP (QoS 2, part 3).
    PubComp(Ack<'a>),
    /// SUBSCRIBE.
    Subscribe(Subscribe<'a>),
    /// SUBACK.
    SubAck(SubAck<'a>),
    /// UNSUBSCRIBE.
    Unsubscribe(Unsubscribe<'a>),
    /// UNSUBACK (3.1.1 carries no reason codes).
    UnsubAck(SubAck<'a>),
    /// PINGREQ.
    PingReq,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT.
    Disconnect(ReasonOnly<'a>),
    /// AUTH (MQTT 5.0).
    Auth(ReasonOnly<'a>),
}

/// The parsed fixed header of a packet at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedHeader {
    /// The first byte: packet type (high nibble) and flags (low nibble).
    pub first_byte: u8,
    /// Length of the fixed header itself (2 to 5 bytes).
    pub header_len: usize,
    /// The remaining length (variable header + payload).
    pub body_len: usize,
}

impl FixedHeader {
    /// Total packet length.
    pub const fn packet_len(&self) -> usize {
        self.header_len + self.body_len
    }

    /// Parses a fixed header; `Ok(None)` when more bytes are needed.
    pub fn parse(buf: &[u8]) -> Result<Option<Self>, DecodeError> {
        let Some(&first_byte) = buf.first() else {
            return Ok(None);
        };
        let Some((body_len, n)) = decode_var_int(buf.get(1..).unwrap_or(&[]))? else {
            return Ok(None);
        };
        Ok(Some(FixedHeader {
            first_byte,
            header_len: 1 + n,
            body_len: body_len as usize,
        }))
    }
}

/// The fixed header flags of packet type `kind` (all but PUBLISH): 0b0010 for PUBREL,
/// SUBSCRIBE and UNSUBSCRIBE, 0 for the rest.
const fn fixed_flags(kind: u8) -> u8 {
    if matches!(kind, 6 | 8 | 10) { 2 } else { 0 }
}

/// Decodes the packet at the start of `buf`.
///
/// Returns `Ok(None)` when `buf` does not yet hold a whole packet, otherwise the packet
/// and the number of bytes it occupies. `version` selects the 3.1.1 or 5.0 layout
/// (CONNECT carries its own version and ignores it).
pub fn decode(
    buf: &[u8],
    version: ProtocolVersion,
) -> Result<Option<(Packet<'_>, usize)>, DecodeError> {
    let Some(h) = FixedHeader::parse(buf)? else {
        return Ok(None);
    };
    let Some(body) = buf.get(h.header_len..h.packet_len()) else {
        return Ok(None);
    };
    let flags = h.first_byte & 0x0F;
    let kind = h.first_byte >> 4;
    let v5 = version.is_v5();
    if kind == 0 || (kind == 15 && !v5) {
        return Err(DecodeError::BadPacketType(kind));
    }
    // PUBLISH flags carry DUP, QoS and RETAIN; those of the others are fixed.
    if kind != 3 && flags != fixed_flags(kind) {
        return Err(DecodeError::BadFlags(flags));
    }
    let mut r = Reader::new(body);
    let packet = match kind {
        1 => Packet::Connect(Connect::decode(&mut r)?),
        2 => Packet::ConnAck(ConnAck::decode(&mut r, version)?),
        3 => Packet::Publish(Publish::decode(&mut r, flags, version)?),
        4 => Packet::PubAck(Ack::decode(&mut r, version)?),
        5 => Packet::PubRec(Ack::decode(&mut r, version)?),
        6 => Packet::PubRel(Ack::decode(&mut r, version)?),
        7 => Packet::PubComp(Ack::decode(&mut r, version)?),
        8 => Packet::Subscribe(Subscribe::decode(&mut r, version)?),
        9 => Packet::SubAck(SubAck::decode(&mut r, version, true)?),
        10 => Packet::Unsubscribe(Unsubscribe::decode(&mut r, version)?),
        11 => Packet::UnsubAck(SubAck::decode(&mut r, version, v5)?),
        12 => Packet::PingReq,
        13 => Packet::PingResp,
        14 => Packet::Disconnect(ReasonOnly::decode(&mut r, v5)?),
        15 => Packet::Auth(ReasonOnly::decode(&mut r, true)?),
        other => return Err(DecodeError::BadPacketType(other)),
    };
    r.finish()?;
    Ok(Some((packet, h.packet_len())))
}

impl<'a> ReasonOnly<'a> {
    fn decode(r: &mut Reader<'a>, v5: bool) -> Result<Self, DecodeError> {
        let mut out = ReasonOnly {
            reason: ReasonCode::SUCCESS,
            properties: Properties::default(),
        };
        if v5 && r.remaining() > 0 {
            out.reason = ReasonCode(r.u8()?);
            if r.remaining() > 0 {
                out.properties = Properties::decode(r)?;
            }
        }
        Ok(out)
    }

    fn encode(&self, w: &mut Writer<'_>, v5: bool) -> Result<(), EncodeError> {
        if v5 && (self.reason != ReasonCode::SUCCESS || self.properties != Properties::default()) {
            w.u8(self.reason.0)?;
            self.properties.encode(w)?;
        }
        Ok(())
    }
}

/// Room reserved in front of the body for the fixed header (1 + 4 bytes).
const HEADER_ROOM: usize = 5;

impl Packet<'_> {
    /// Encodes the packet into `buf` using the layout of `version` and returns the
    /// number of bytes written. Fails with [`EncodeError::BufferTooSmall`] rather than
    /// writing a partial packet.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let body_room = buf
            .get_mut(HEADER_ROOM..)
            .ok_or(EncodeError::BufferTooSmall)?;
        let mut w = Writer::new(body_room);
        let first_byte = self.encode_body(&mut w, version)?;
        let body_len = w.len();
        let body_len_u32 = u32::try_from(body_len).map_err(|_| EncodeError::FieldTooLong)?;
        if body_len_u32 > MAX_VAR_INT {
            return Err(EncodeError::FieldTooLong);
        }
        let header_len = 1 + var_int_len(body_len_u32);
        buf.copy_within(HEADER_ROOM..HEADER_ROOM + body_len, header_len);
        let mut hw = Writer::new(buf);
        hw.u8(first_byte)?;
        hw.var_int(body_len_u32)?;
        Ok(header_len + body_len)
    }

    /// Writes the variable header and payload; returns the first header byte.
    fn encode_body(&self, w: &mut Writer<'_>, version: ProtocolVersion) -> Result<u8, EncodeError> {
        let v5 = version.is_v5();
        let kind = match self {
            Packet::Connect(c) => c.encode(w, version).map(|()| 1)?,
            Packet::ConnAck(c) => c.encode(w, version).map(|()| 2)?,
            // The flags of PUBLISH carry DUP, QoS and RETAIN.
            Packet::Publish(p) => return p.encode(w, version),
            Packet::PubAck(a) => a.encode(w, version).map(|()| 4)?,
            Packet::PubRec(a) => a.encode(w, version).map(|()| 5)?,
            Packet::PubRel(a) => a.encode(w, version).map(|()| 6)?,
            Packet::PubComp(a) => a.encode(w, version).map(|()| 7)?,
            Packet::Subscribe(s) => s.encode(w, version).map(|()| 8)?,
            Packet::SubAck(s) => s.encode(w, version, true).map(|()| 9)?,
            Packet::Unsubscribe(u) => u.encode(w, version).map(|()| 10)?,
            Packet::UnsubAck(s) => s.encode(w, version, v5).map(|()| 11)?,
            Packet::PingReq => 12,
            Packet::PingResp => 13,
            Packet::Disconnect(d) => d.encode(w, v5).map(|()| 14)?,
            Packet::Auth(_) if !v5 => {
                return Err(EncodeError::Invalid("AUTH exists only in MQTT 5.0"));
            }
            Packet::Auth(a) => a.encode(w, true).map(|()| 15)?,
        };
        Ok(kind << 4 | fixed_flags(kind))
    }
}
