//! PUBLISH and the four acknowledgement packets (PUBACK, PUBREC, PUBREL, PUBCOMP).

use super::properties::Properties;
use super::types::{ProtocolVersion, QoS, ReasonCode};
use super::wire::{DecodeError, EncodeError, Reader, Writer};

/// PUBLISH: an application message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Publish<'a> {
    /// Re-delivery of an earlier attempt.
    pub dup: bool,
    /// Quality of service.
    pub qos: QoS,
    /// Retained message.
    pub retain: bool,
    /// Topic name (empty in MQTT 5.0 when a topic alias stands for it).
    pub topic: &'a str,
    /// Packet identifier (0 for QoS 0, non-zero otherwise).
    pub packet_id: u16,
    /// MQTT 5.0 properties (message expiry, topic alias, content type, response topic,
    /// correlation data, user properties...).
    pub properties: Properties<'a>,
    /// Application payload.
    pub payload: &'a [u8],
}

impl<'a> Publish<'a> {
    pub(crate) fn decode(
        r: &mut Reader<'a>,
        flags: u8,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let qos = QoS::from_bits((flags >> 1) & 0x03)?;
        let dup = flags & 0x08 != 0;
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::BadFlags(flags));
        }
        let topic = r.string()?;
        if topic.contains(['+', '#']) {
            return Err(DecodeError::Invalid("wildcard in topic name"));
        }
        let packet_id = if qos == QoS::AtMostOnce {
            0
        } else {
            nonzero_id(r.u16()?)?
        };
        let properties = if version.is_v5() {
            Properties::decode(r)?
        } else {
            Properties::default()
        };
        if topic.is_empty() && properties.topic_alias.is_none() {
            return Err(DecodeError::Invalid("empty topic without topic alias"));
        }
        Ok(Publish {
            dup,
            qos,
            retain: flags & 0x01 != 0,
            topic,
            packet_id,
            properties,
            payload: r.rest(),
        })
    }

    /// Writes the body and returns the first header byte.
    pub(crate) fn encode(
        &self,
        w: &mut Writer<'_>,
        version: ProtocolVersion,
    ) -> Result<u8, EncodeError> {
        if self.qos == QoS::AtMostOnce && self.dup {
            return Err(EncodeError::Invalid("DUP on a QoS 0 publish"));
        }
        if self.topic.contains(['+', '#']) {
            return Err(EncodeError::Invalid("wildcard in topic name"));
        }
        w.string(self.topic)?;
        if self.qos != QoS::AtMostOnce {
            if self.packet_id == 0 {
                return Err(EncodeError::Invalid("packet id 0"));
            }
            w.u16(self.packet_id)?;
        }
        if version.is_v5() {
            self.properties.encode(w)?;
        }
        w.bytes(self.payload)?;
        Ok(0x30 | (u8::from(self.dup) << 3) | ((self.qos as u8) << 1) | u8::from(self.retain))
    }
}

pub(crate) fn nonzero_id(id: u16) -> Result<u16, DecodeError> {
    if id == 0 {
        Err(DecodeError::Invalid("packet id 0"))
    } else {
        Ok(id)
    }
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ack<'a> {
    /// The packet identifier being acknowledged.
    pub packet_id: u16,
    /// MQTT 5.0 reason code (always success for 3.1.1).
    pub reason: ReasonCode,
    /// MQTT 5.0 properties (reason string, user properties).
    pub properties: Properties<'a>,
}

impl<'a> Ack<'a> {
    /// A plain successful acknowledgement of `packet_id`.
    pub fn new(packet_id: u16) -> Self {
        Ack {
            packet_id,
            reason: ReasonCode::SUCCESS,
            properties: Properties::default(),
        }
    }

    pub(crate) fn decode(
        r: &mut Reader<'a>,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let mut ack = Ack::new(nonzero_id(r.u16()?)?);
        if version.is_v5() && r.remaining() > 0 {
            ack.reason = ReasonCode(r.u8()?);
            if r.remaining() > 0 {
                ack.properties = Properties::decode(r)?;
            }
        }
        Ok(ack)
    }

    pub(crate) fn encode(
        &self,
        w: &mut Writer<'_>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        if self.packet_id == 0 {
            return Err(EncodeError::Invalid("packet id 0"));
        }
        w.u16(self.packet_id)?;
        let has_props = self.properties != Properties::default();
        if version.is_v5() && (self.reason != ReasonCode::SUCCESS || has_props) {
            w.u8(self.reason.0)?;
            if has_props {
                self.properties.encode(w)?;
            }
        }
        Ok(())
    }
}
