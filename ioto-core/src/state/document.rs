//! The state values ([`Reported`], [`Desired`]), the shadow version ([`DeviceState`])
//! and the one path desired changes take: key → [`Command`] → [`Limits::check`].

use minicbor::{Decode, Encode};
use serde::Serialize;

use super::shadow_json::{Delta, GetAccepted};
use crate::device::{Command, Limits, Rejected};

/// What the device reports: its settings and its health.
///
/// The JSON names (shadow) are the field names; the CBOR keys are the `n(..)` numbers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Encode, Decode)]
#[cbor(map)]
pub struct Reported<'a> {
    /// Sensitivity multiplier of the detectors' thresholds (writable).
    #[n(0)]
    pub sensitivity: f32,
    /// Level of actuator 0, `0..=1` (writable).
    #[n(1)]
    pub actuator: f32,
    /// Seconds between summary reports (writable).
    #[n(2)]
    pub report_interval_s: u32,
    /// Latest anomaly score.
    #[n(3)]
    pub anomaly_score: f32,
    /// Latest RMS vibration (g).
    #[n(4)]
    pub rms: f32,
    /// Firmware version.
    #[b(5)]
    pub firmware: &'a str,
    /// Seconds since boot.
    #[n(6)]
    pub uptime_s: u64,
    /// Records waiting in the outbox.
    #[n(7)]
    pub queue_depth: u32,
}

impl<'a> Reported<'a> {
    /// Power-on values: sensitivity 1, actuator off, a report every 60 s, no score yet.
    pub const fn new(firmware: &'a str) -> Self {
        Self {
            sensitivity: 1.0,
            actuator: 0.0,
            report_interval_s: 60,
            anomaly_score: 0.0,
            rms: 0.0,
            firmware,
            uptime_s: 0,
            queue_depth: 0,
        }
    }
}

/// The writable subset, as the cloud asks for it (absent = no change).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Encode, Decode)]
#[cbor(map)]
pub struct Desired {
    /// New sensitivity multiplier.
    #[n(0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<f32>,
    /// New level of actuator 0.
    #[n(1)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actuator: Option<f32>,
    /// New report interval, seconds.
    #[n(2)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_interval_s: Option<u32>,
}

/// The value a desired-state document gave one known key.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Field {
    /// The key is not in the document.
    #[default]
    Absent,
    /// `null` (the key was deleted from the desired state).
    Null,
    /// A number.
    Number(f64),
    /// A string, bool, array or object where a number belongs.
    WrongType,
}

/// How many unknown keys of one document are remembered (more are only counted).
pub const MAX_UNKNOWN: usize = 4;

/// The keys of one desired-state object, parsed but not yet checked.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StateFields<'j> {
    /// `sensitivity`.
    pub sensitivity: Field,
    /// `actuator` (actuator 0).
    pub actuator: Field,
    /// `report_interval_s`.
    pub report_interval_s: Field,
    unknown: [&'j str; MAX_UNKNOWN],
    unknown_len: usize,
    unknown_dropped: usize,
}

impl<'j> StateFields<'j> {
    /// Records one key of the document (a repeated known key: the last one wins).
    pub fn set(&mut self, key: &'j str, value: Field) {
        match key {
            "sensitivity" => self.sensitivity = value,
            "actuator" => self.actuator = value,
            "report_interval_s" => self.report_interval_s = value,
            _ => self.push_unknown(key),
        }
    }

    /// Records a key the device does not know.
    pub fn push_unknown(&mut self, key: &'j str) {
        if let Some(slot) = self.unknown.get_mut(self.unknown_len) {
            *slot = key;
            self.unknown_len += 1;
        } else {
            self.unknown_dropped = self.unknown_dropped.saturating_add(1);
        }
    }

    /// The unknown keys remembered (raw JSON text, escapes not decoded).
    pub fn unknown(&self) -> &[&'j str] {
        &self.unknown[..self.unknown_len]
    }

    /// How many unknown keys did not fit in [`StateFields::unknown`].
    pub fn unknown_dropped(&self) -> usize {
        self.unknown_dropped
    }
}

impl From<&Desired> for StateFields<'static> {
    fn from(d: &Desired) -> Self {
        let num = |v: Option<f64>| v.map_or(Field::Absent, Field::Number);
        Self {
            sensitivity: num(d.sensitivity.map(f64::from)),
            actuator: num(d.actuator.map(f64::from)),
            report_interval_s: num(d.report_interval_s.map(f64::from)),
            ..Self::default()
        }
    }
}

/// What became of one key of a desired-state document.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KeyOutcome {
    /// The command passed [`Limits::check`] and is now the device's setting: the
    /// agent runs it (as it would a tool call).
    Applied(Command),
    /// Refused (by the limits, or `BadArguments` for a value of the wrong type).
    Rejected(Rejected),
    /// `null`: nothing to change.
    Unset,
    /// Not a key the device knows; ignored.
    Unknown,
}

/// One key and its outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeyResult<'j> {
    /// The key as written in the document.
    pub key: &'j str,
    /// What became of it.
    pub outcome: KeyOutcome,
}

const MAX_RESULTS: usize = 3 + MAX_UNKNOWN;

/// Per key of one desired-state document: applied, rejected, unknown. Known keys come
/// first (sensitivity, actuator, report_interval_s), then unknown ones.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ApplyReport<'j> {
    results: [KeyResult<'j>; MAX_RESULTS],
    len: usize,
    unknown_dropped: usize,
}

impl<'j> ApplyReport<'j> {
    fn new() -> Self {
        let blank = KeyResult {
            key: "",
            outcome: KeyOutcome::Unknown,
        };
        Self {
            results: [blank; MAX_RESULTS],
            len: 0,
            unknown_dropped: 0,
        }
    }

    fn push(&mut self, key: &'j str, outcome: KeyOutcome) {
        if let Some(slot) = self.results.get_mut(self.len) {
            *slot = KeyResult { key, outcome };
            self.len += 1;
        }
    }

    /// Every key with its outcome.
    pub fn iter(&self) -> impl Iterator<Item = &KeyResult<'j>> {
        self.results[..self.len].iter()
    }

    /// The commands that passed the limits, in order: what the agent runs.
    pub fn commands(&self) -> impl Iterator<Item = Command> + '_ {
        self.iter().filter_map(|r| match r.outcome {
            KeyOutcome::Applied(c) => Some(c),
            _ => None,
        })
    }

    /// Whether any key was refused.
    pub fn any_rejected(&self) -> bool {
        self.iter()
            .any(|r| matches!(r.outcome, KeyOutcome::Rejected(_)))
    }

    /// Number of keys listed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the document held no keys.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Unknown keys beyond those listed (only counted).
    pub fn unknown_dropped(&self) -> usize {
        self.unknown_dropped
    }
}

/// What a versioned desired-state document did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DeltaOutcome<'j> {
    /// Its version is not newer than the one already applied: ignored.
    Stale {
        /// The document's version.
        version: u64,
        /// The version the device had already seen.
        current: u64,
    },
    /// Applied key by key.
    Applied(ApplyReport<'j>),
}

/// The device's state as the shadow knows it: reported values and the shadow
/// version last seen from the cloud.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeviceState<'a> {
    /// Reported values (the writable ones follow applied commands).
    pub reported: Reported<'a>,
    /// Shadow document version last seen (0 = none yet; AWS starts at 1).
    pub version: u64,
}

impl<'a> DeviceState<'a> {
    /// A state with these reported values and no shadow version seen yet.
    pub const fn new(reported: Reported<'a>) -> Self {
        Self {
            reported,
            version: 0,
        }
    }

    /// The writable values as they are now.
    pub fn desired(&self) -> Desired {
        Desired {
            sensitivity: Some(self.reported.sensitivity),
            actuator: Some(self.reported.actuator),
            report_interval_s: Some(self.reported.report_interval_s),
        }
    }

    /// Applies a desired-state object key by key: each known key becomes a
    /// [`Command`] checked by `limits`; what passes updates [`DeviceState::reported`].
    ///
    /// `sensitivity` → `SetSensitivity`, `actuator` → `SetActuator { actuator: 0 }`,
    /// `report_interval_s` → `ScheduleReport` (the next report after that many
    /// seconds; the interval is kept).
    pub fn apply<'j>(&mut self, fields: &StateFields<'j>, limits: &Limits) -> ApplyReport<'j> {
        let mut report = ApplyReport::new();
        let known: [(&'static str, Field); 3] = [
            ("sensitivity", fields.sensitivity),
            ("actuator", fields.actuator),
            ("report_interval_s", fields.report_interval_s),
        ];
        for (key, field) in known {
            let outcome = match field {
                Field::Absent => continue,
                Field::Null => KeyOutcome::Unset,
                Field::WrongType => KeyOutcome::Rejected(Rejected::BadArguments),
                Field::Number(v) => match command_for(key, v) {
                    None => KeyOutcome::Rejected(Rejected::BadArguments),
                    Some(cmd) => match limits.check(&cmd) {
                        Ok(()) => {
                            self.record(&cmd);
                            KeyOutcome::Applied(cmd)
                        }
                        Err(why) => KeyOutcome::Rejected(why),
                    },
                },
            };
            report.push(key, outcome);
        }
        for key in fields.unknown() {
            report.push(key, KeyOutcome::Unknown);
        }
        report.unknown_dropped = fields.unknown_dropped();
        report
    }

    /// Applies a compact (CBOR) desired change through the same path as
    /// [`DeviceState::apply`].
    pub fn apply_desired(&mut self, desired: &Desired, limits: &Limits) -> ApplyReport<'static> {
        self.apply(&StateFields::from(desired), limits)
    }

    /// Applies an `/update/delta` document unless its version is not newer than
    /// [`DeviceState::version`] (then [`DeltaOutcome::Stale`]).
    pub fn apply_delta<'j>(&mut self, delta: &Delta<'j>, limits: &Limits) -> DeltaOutcome<'j> {
        if delta.version <= self.version {
            return DeltaOutcome::Stale {
                version: delta.version,
                current: self.version,
            };
        }
        self.version = delta.version;
        DeltaOutcome::Applied(self.apply(&delta.state, limits))
    }

    /// Applies the `desired` section of a `/get/accepted` document (the full
    /// snapshot: applying it again is harmless), unless the document is older than
    /// [`DeviceState::version`].
    pub fn apply_get<'j>(&mut self, get: &GetAccepted<'j>, limits: &Limits) -> DeltaOutcome<'j> {
        if get.version < self.version {
            return DeltaOutcome::Stale {
                version: get.version,
                current: self.version,
            };
        }
        self.version = get.version;
        DeltaOutcome::Applied(self.apply(&get.desired, limits))
    }

    /// Notes a version the cloud confirmed (`/update/accepted`); versions never go back.
    pub fn observe_version(&mut self, version: u64) {
        self.version = self.version.max(version);
    }

    fn record(&mut self, cmd: &Command) {
        match *cmd {
            Command::SetSensitivity { level } => self.reported.sensitivity = level,
            Command::SetActuator { level, .. } => self.reported.actuator = level,
            Command::ScheduleReport { after_s } => self.reported.report_interval_s = after_s,
            Command::ReadSensor { .. } => {}
        }
    }
}

/// The command a known key asks for, or `None` if the number cannot be its argument.
fn command_for(key: &str, v: f64) -> Option<Command> {
    match key {
        "sensitivity" => Some(Command::SetSensitivity { level: v as f32 }),
        "actuator" => Some(Command::SetActuator {
            actuator: 0,
            level: v as f32,
        }),
        "report_interval_s" => {
            // An integral, non-negative number that fits u32 (60.0 counts as 60).
            let s = v as u32;
            (v >= 0.0 && f64::from(s) == v).then_some(Command::ScheduleReport { after_s: s })
        }
        _ => None,
    }
}
