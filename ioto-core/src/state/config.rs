//! The persisted configuration record (postcard), behind a schema version byte.
//!
//! Record = `[CONFIG_SCHEMA, postcard(Config)…]`. The flash store
//! (`ioto-transport`) keeps the bytes; this module only encodes and decodes them.
//! At boot the agent replays [`Config::commands`] through
//! [`Limits::check`](crate::device::Limits::check), so a record from a build with
//! wider limits cannot push the device outside the current ones.

use serde::de::{Error as _, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::StateError;
use super::shadow_json::{THING_NAME_MAX, is_valid_thing_name};
use crate::device::Command;

/// Schema version of [`Config`] records written by this build.
pub const CONFIG_SCHEMA: u8 = 1;

/// Largest encoded record: schema byte + the longest `Config`.
pub const CONFIG_MAX_LEN: usize = 1 + 2 + THING_NAME_MAX + 4 + 5 + 4 + 1 + 4 + 4 + 1;

/// A thing name held inline (1..=128 of `[a-zA-Z0-9:_-]`), no heap.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ThingName {
    bytes: [u8; THING_NAME_MAX],
    len: u8,
}

impl ThingName {
    /// Copies `name`; [`StateError::InvalidName`] unless it is a valid thing name.
    pub fn new(name: &str) -> Result<Self, StateError> {
        if !is_valid_thing_name(name) {
            return Err(StateError::InvalidName);
        }
        let mut bytes = [0u8; THING_NAME_MAX];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(Self {
            bytes,
            // ≤ 128 by the check above.
            len: name.len() as u8,
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl core::fmt::Debug for ThingName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for ThingName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ThingName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ThingName;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("an AWS IoT thing name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ThingName, E> {
                ThingName::new(v).map_err(|_| E::custom("invalid thing name"))
            }
        }
        d.deserialize_str(V)
            .map_err(|_: D::Error| D::Error::custom("invalid thing name"))
    }
}

/// Detector alarm thresholds (on the detector's score).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Score above which the device reports.
    pub report: f32,
    /// Score above which the device escalates to the cloud.
    pub escalate: f32,
}

/// The device's persisted configuration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// AWS IoT thing name (also the MQTT client id).
    pub thing_name: ThingName,
    /// Sensitivity multiplier of the thresholds.
    pub sensitivity: f32,
    /// Seconds between summary reports.
    pub report_interval_s: u32,
    /// Level of actuator 0.
    pub actuator: f32,
    /// Which detector runs (0 = robust z, 1 = contextual, 2 = model; others reserved).
    pub detector: u8,
    /// Alarm thresholds.
    pub thresholds: Thresholds,
    /// Whether Home Assistant discovery documents are published.
    pub ha_discovery: bool,
}

impl Config {
    /// Defaults for `thing_name`: sensitivity 1, a report every 60 s, actuator off,
    /// contextual detector, thresholds 0.5 / 0.9, no discovery.
    pub fn new(thing_name: ThingName) -> Self {
        Self {
            thing_name,
            sensitivity: 1.0,
            report_interval_s: 60,
            actuator: 0.0,
            detector: 1,
            thresholds: Thresholds {
                report: 0.5,
                escalate: 0.9,
            },
            ha_discovery: false,
        }
    }

    /// The commands that restore this configuration (check each with the limits).
    pub fn commands(&self) -> [Command; 3] {
        [
            Command::SetSensitivity {
                level: self.sensitivity,
            },
            Command::SetActuator {
                actuator: 0,
                level: self.actuator,
            },
            Command::ScheduleReport {
                after_s: self.report_interval_s,
            },
        ]
    }

    /// Writes the record (schema byte + postcard) into `out`; returns its length.
    pub fn to_slice(&self, out: &mut [u8]) -> Result<usize, StateError> {
        let (first, rest) = out.split_first_mut().ok_or(StateError::BufferTooSmall)?;
        *first = CONFIG_SCHEMA;
        let body = postcard::to_slice(self, rest).map_err(|_| StateError::BufferTooSmall)?;
        Ok(1 + body.len())
    }

    /// Reads a record written by [`Config::to_slice`] (exactly, no trailing bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateError> {
        let (&schema, body) = bytes.split_first().ok_or(StateError::Truncated)?;
        if schema != CONFIG_SCHEMA {
            return Err(StateError::SchemaVersion { found: schema });
        }
        let (config, rest) =
            postcard::take_from_bytes::<Config>(body).map_err(|_| StateError::Postcard)?;
        if rest.is_empty() {
            Ok(config)
        } else {
            Err(StateError::TrailingBytes)
        }
    }
}
