//! Opt-in Home Assistant MQTT discovery: one retained config document per entity at
//! `homeassistant/<component>/<node_id>/<object_id>/config`, pointing Home Assistant
//! at the agent's telemetry topic.
//!
//! The telemetry JSON is expected to carry the keys of [`Entity::json_key`]
//! (`score`, `rms`, `queue`, `sensitivity`). The sensitivity is offered as a
//! `number` entity only when a command topic is given (Home Assistant requires one).

use serde::{Serialize, Serializer};

use super::{SliceWriter, StateError};
use crate::device::Limits;

/// The default discovery prefix of Home Assistant.
pub const DEFAULT_PREFIX: &str = "homeassistant";

/// Manufacturer written into every device block.
pub const MANUFACTURER: &str = "Ioto-rs";

/// Whether `id` is a valid discovery node id / object id: 1..=128 of `[a-zA-Z0-9_-]`.
pub fn is_valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
}

/// An entity the device announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Entity {
    /// Anomaly score (sensor).
    AnomalyScore,
    /// RMS vibration, g (sensor).
    RmsVibration,
    /// Outbox queue depth (sensor).
    QueueDepth,
    /// Sensitivity multiplier (number; needs a command topic).
    Sensitivity,
}

impl Entity {
    /// The three sensors (always available).
    pub const SENSORS: [Entity; 3] = [
        Entity::AnomalyScore,
        Entity::RmsVibration,
        Entity::QueueDepth,
    ];

    /// Home Assistant component (`sensor` or `number`).
    pub const fn component(self) -> &'static str {
        match self {
            Entity::Sensitivity => "number",
            _ => "sensor",
        }
    }

    /// Object id (topic level and `unique_id` suffix).
    pub const fn object_id(self) -> &'static str {
        match self {
            Entity::AnomalyScore => "anomaly_score",
            Entity::RmsVibration => "rms_vibration",
            Entity::QueueDepth => "queue_depth",
            Entity::Sensitivity => "sensitivity",
        }
    }

    /// Display name.
    pub const fn name(self) -> &'static str {
        match self {
            Entity::AnomalyScore => "Anomaly score",
            Entity::RmsVibration => "RMS vibration",
            Entity::QueueDepth => "Queue depth",
            Entity::Sensitivity => "Sensitivity",
        }
    }

    /// The key of the value in the telemetry JSON.
    pub const fn json_key(self) -> &'static str {
        match self {
            Entity::AnomalyScore => "score",
            Entity::RmsVibration => "rms",
            Entity::QueueDepth => "queue",
            Entity::Sensitivity => "sensitivity",
        }
    }

    const fn value_template(self) -> &'static str {
        match self {
            Entity::AnomalyScore => "{{ value_json.score }}",
            Entity::RmsVibration => "{{ value_json.rms }}",
            Entity::QueueDepth => "{{ value_json.queue }}",
            Entity::Sensitivity => "{{ value_json.sensitivity }}",
        }
    }

    const fn unit(self) -> Option<&'static str> {
        match self {
            Entity::RmsVibration => Some("g"),
            _ => None,
        }
    }
}

/// What the discovery documents say about the device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Discovery<'a> {
    /// Discovery prefix ([`DEFAULT_PREFIX`]).
    pub prefix: &'a str,
    /// Node id: the device id (`[a-zA-Z0-9_-]`), also its identifier.
    pub node_id: &'a str,
    /// Device display name.
    pub device_name: &'a str,
    /// Device model.
    pub model: &'a str,
    /// Firmware version, if announced.
    pub sw_version: Option<&'a str>,
    /// The agent's telemetry topic (JSON with the [`Entity::json_key`] keys).
    pub state_topic: &'a str,
    /// Online/offline topic, if the agent keeps one.
    pub availability_topic: Option<&'a str>,
    /// Where Home Assistant writes a new sensitivity (enables [`Entity::Sensitivity`]).
    pub command_topic: Option<&'a str>,
    /// The device's limits (the sensitivity entity's `min`/`max`).
    pub limits: Limits,
}

struct UniqueId<'a>(&'a str, &'a str);

impl Serialize for UniqueId<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}_{}", self.0, self.1))
    }
}

#[derive(Serialize)]
struct DeviceBlock<'a> {
    identifiers: [&'a str; 1],
    name: &'a str,
    manufacturer: &'a str,
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sw_version: Option<&'a str>,
}

#[derive(Serialize)]
struct Payload<'a> {
    name: &'a str,
    unique_id: UniqueId<'a>,
    state_topic: &'a str,
    value_template: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_of_measurement: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_class: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    availability_topic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command_topic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<f32>,
    device: DeviceBlock<'a>,
}

impl<'a> Discovery<'a> {
    /// Discovery for `node_id` under the default prefix, with no availability or
    /// command topic, no firmware version and the default limits.
    pub fn new(
        node_id: &'a str,
        device_name: &'a str,
        model: &'a str,
        state_topic: &'a str,
    ) -> Self {
        Self {
            prefix: DEFAULT_PREFIX,
            node_id,
            device_name,
            model,
            sw_version: None,
            state_topic,
            availability_topic: None,
            command_topic: None,
            limits: Limits::default(),
        }
    }

    /// The entities to announce: the sensors, plus the sensitivity if a command
    /// topic is set.
    pub fn entities(&self) -> impl Iterator<Item = Entity> {
        let number = self.command_topic.map(|_| Entity::Sensitivity);
        Entity::SENSORS.into_iter().chain(number)
    }

    fn check(&self, entity: Entity) -> Result<(), StateError> {
        if !is_valid_id(self.node_id) || self.prefix.is_empty() || self.state_topic.is_empty() {
            return Err(StateError::InvalidName);
        }
        if entity == Entity::Sensitivity && self.command_topic.is_none() {
            return Err(StateError::Missing("command_topic"));
        }
        Ok(())
    }

    /// Writes `<prefix>/<component>/<node_id>/<object_id>/config` into `buf`.
    pub fn topic<'b>(&self, entity: Entity, buf: &'b mut [u8]) -> Result<&'b str, StateError> {
        self.check(entity)?;
        let mut w = SliceWriter::new(buf);
        for part in [
            self.prefix,
            "/",
            entity.component(),
            "/",
            self.node_id,
            "/",
            entity.object_id(),
            "/config",
        ] {
            w.push(part)?;
        }
        w.finish()
    }

    /// Writes the JSON config document of `entity` into `buf`; returns its length.
    /// Publish it retained.
    pub fn payload(&self, entity: Entity, buf: &mut [u8]) -> Result<usize, StateError> {
        self.check(entity)?;
        let number = entity == Entity::Sensitivity;
        let doc = Payload {
            name: entity.name(),
            unique_id: UniqueId(self.node_id, entity.object_id()),
            state_topic: self.state_topic,
            value_template: entity.value_template(),
            unit_of_measurement: entity.unit(),
            state_class: (!number).then_some("measurement"),
            availability_topic: self.availability_topic,
            command_topic: if number { self.command_topic } else { None },
            min: number.then_some(self.limits.min_sensitivity),
            max: number.then_some(self.limits.max_sensitivity),
            step: number.then_some(0.05),
            device: DeviceBlock {
                identifiers: [self.node_id],
                name: self.device_name,
                manufacturer: MANUFACTURER,
                model: self.model,
                sw_version: self.sw_version,
            },
        };
        serde_json_core::to_slice(&doc, buf).map_err(|_| StateError::BufferTooSmall)
    }
}
