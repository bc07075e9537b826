//! CONNECT and CONNACK layouts.

use super::properties::Properties;
use super::types::{ProtocolVersion, QoS, ReasonCode};
use super::wire::{DecodeError, EncodeError, Reader, Writer};

/// The last will: published by the broker if the client vanishes without DISCONNECT.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LastWill<'a> {
    /// Topic the will is published to.
    pub topic: &'a str,
    /// Will payload.
    pub payload: &'a [u8],
    /// QoS of the will message.
    pub qos: QoS,
    /// Whether the will is retained.
    pub retain: bool,
    /// MQTT 5.0 will properties (will delay, message expiry, content type...).
    pub properties: Properties<'a>,
}

/// CONNECT: opens a session.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Connect<'a> {
    /// Protocol version this CONNECT uses (its protocol level byte).
    pub version: ProtocolVersion,
    /// Client identifier (may be empty to let the broker assign one).
    pub client_id: &'a str,
    /// Keep-alive interval in seconds (0 disables it).
    pub keep_alive: u16,
    /// Clean session (3.1.1) / clean start (5.0).
    pub clean_start: bool,
    /// User name.
    pub username: Option<&'a str>,
    /// Password.
    pub password: Option<&'a [u8]>,
    /// Last will.
    pub will: Option<LastWill<'a>>,
    /// MQTT 5.0 properties (session expiry, receive maximum, maximum packet size...).
    pub properties: Properties<'a>,
}

const PROTOCOL_NAME: &str = "MQTT";

impl<'a> Connect<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        if r.string()? != PROTOCOL_NAME {
            return Err(DecodeError::Invalid("protocol name is not MQTT"));
        }
        let version = match r.u8()? {
            4 => ProtocolVersion::V3_1_1,
            5 => ProtocolVersion::V5,
            _ => return Err(DecodeError::Invalid("unsupported protocol level")),
        };
        let flags = r.u8()?;
        if flags & 0x01 != 0 {
            return Err(DecodeError::Invalid("reserved connect flag set"));
        }
        let has_will = flags & 0x04 != 0;
        let will_qos = QoS::from_bits((flags >> 3) & 0x03)?;
        let will_retain = flags & 0x20 != 0;
        if !has_will && (flags & 0x38) != 0 {
            return Err(DecodeError::Invalid("will QoS/retain without a will"));
        }
        let has_password = flags & 0x40 != 0;
        let has_username = flags & 0x80 != 0;
        if version == ProtocolVersion::V3_1_1 && has_password && !has_username {
            return Err(DecodeError::Invalid("password without user name"));
        }
        let keep_alive = r.u16()?;
        let properties = if version.is_v5() {
            Properties::decode(r)?
        } else {
            Properties::default()
        };
        let client_id = r.string()?;
        let will = if has_will {
            let properties = if version.is_v5() {
                Properties::decode(r)?
            } else {
                Properties::default()
            };
            Some(LastWill {
                topic: r.string()?,
                payload: r.binary()?,
                qos: will_qos,
                retain: will_retain,
                properties,
            })
        } else {
            None
        };
        let username = if has_username {
            Some(r.string()?)
        } else {
            None
        };
        let password = if has_password {
            Some(r.binary()?)
        } else {
            None
        };
        Ok(Connect {
            version,
            client_id,
            keep_alive,
            clean_start: flags & 0x02 != 0,
            username,
            password,
            will,
            properties,
        })
    }

    pub(crate) fn encode(
        &self,
        w: &mut Writer<'_>,
        _version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        let v5 = self.version.is_v5();
        if !v5 && self.password.is_some() && self.username.is_none() {
            return Err(EncodeError::Invalid(
                "MQTT 3.1.1 needs a user name with a password",
            ));
        }
        w.string(PROTOCOL_NAME)?;
        w.u8(self.version.level())?;
        let mut flags = 0u8;
        if self.clean_start {
            flags |= 0x02;
        }
        if let Some(will) = &self.will {
            flags |= 0x04 | ((will.qos as u8) << 3);
            if will.retain {
                flags |= 0x20;
            }
        }
        if self.password.is_some() {
            flags |= 0x40;
        }
        if self.username.is_some() {
            flags |= 0x80;
        }
        w.u8(flags)?;
        w.u16(self.keep_alive)?;
        if v5 {
            self.properties.encode(w)?;
        }
        w.string(self.client_id)?;
        if let Some(will) = &self.will {
            if v5 {
                will.properties.encode(w)?;
            }
            w.string(will.topic)?;
            w.binary(will.payload)?;
        }
        if let Some(u) = self.username {
            w.string(u)?;
        }
        if let Some(p) = self.password {
            w.binary(p)?;
        }
        Ok(())
    }
}

/// CONNACK: the broker's answer to CONNECT.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConnAck<'a> {
    /// The broker resumed a stored session.
    pub session_present: bool,
    /// 3.1.1 return code (0 = accepted, 1..=5 refused) or 5.0 reason code.
    pub reason: ReasonCode,
    /// MQTT 5.0 properties (receive maximum, maximum packet size, assigned client id...).
    pub properties: Properties<'a>,
}

impl<'a> ConnAck<'a> {
    pub(crate) fn decode(
        r: &mut Reader<'a>,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let flags = r.u8()?;
        if flags & 0xFE != 0 {
            return Err(DecodeError::Invalid("reserved CONNACK flags set"));
        }
        let reason = ReasonCode(r.u8()?);
        let properties = if version.is_v5() {
            Properties::decode(r)?
        } else {
            Properties::default()
        };
        Ok(ConnAck {
            session_present: flags & 1 != 0,
            reason,
            properties,
        })
    }

    pub(crate) fn encode(
        &self,
        w: &mut Writer<'_>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        w.u8(u8::from(self.session_present))?;
        w.u8(self.reason.0)?;
        if version.is_v5() {
            self.properties.encode(w)?;
        }
        Ok(())
    }

    /// True when the broker accepted the connection (3.1.1 code 0 / 5.0 success).
    pub const fn accepted(&self) -> bool {
        self.reason.0 == 0
    }
}
