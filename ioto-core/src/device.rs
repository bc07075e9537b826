//! The device functions a cloud model (tool calls) and the device state (desired
//! changes) may call, with their argument schemas and limits.
//!
//! One vocabulary, [`Command`], reaches the device from both ways in; both are checked
//! by the same [`Limits`] before anything changes. `ioto-cloud` presents [`TOOLS`] to a
//! model as function tools and validates the model's arguments against
//! [`ToolSpec::parameters`] before it builds a `Command`; the device state does the
//! same with a desired-state delta.
//!
//! ```
//! use ioto_core::device::{Command, Limits, Rejected};
//!
//! let limits = Limits::default();
//! assert_eq!(limits.check(&Command::SetSensitivity { level: 1.5 }), Ok(()));
//! assert_eq!(
//!     limits.check(&Command::SetActuator { actuator: 0, level: 7.0 }),
//!     Err(Rejected::OutOfRange)
//! );
//! ```

/// One call into a device function, arguments already parsed.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Command {
    /// Scale the detectors' alarm thresholds: below 1 more sensitive, above 1 less.
    SetSensitivity {
        /// Multiplier of the report/escalate thresholds.
        level: f32,
    },
    /// Drive actuator `actuator` to `level` (0 = off, 1 = full).
    SetActuator {
        /// Actuator index.
        actuator: u8,
        /// Set point in `0..=1`.
        level: f32,
    },
    /// Send a summary report after `after_s` seconds (0 = now).
    ScheduleReport {
        /// Delay in seconds.
        after_s: u32,
    },
    /// Read sensor channel `channel` now and report its latest features.
    ReadSensor {
        /// Channel index.
        channel: u8,
    },
}

impl Command {
    /// The tool (device function) name of this command.
    pub const fn name(&self) -> &'static str {
        match self {
            Command::SetSensitivity { .. } => "set_sensitivity",
            Command::SetActuator { .. } => "set_actuator",
            Command::ScheduleReport { .. } => "schedule_report",
            Command::ReadSensor { .. } => "read_sensor",
        }
    }
}

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Rejected {
    /// A value outside the device's limits (or not a finite number).
    OutOfRange,
    /// No such actuator or sensor channel.
    NoSuchTarget,
    /// No device function of that name.
    UnknownFunction,
    /// Arguments that do not match the function's schema.
    BadArguments,
}

/// The device's limits on every command; what is outside is refused, never clamped.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Limits {
    /// Smallest sensitivity multiplier.
    pub min_sensitivity: f32,
    /// Largest sensitivity multiplier.
    pub max_sensitivity: f32,
    /// Number of actuators.
    pub actuators: u8,
    /// Highest actuator level allowed (≤ 1).
    pub max_actuator_level: f32,
    /// Number of sensor channels.
    pub channels: u8,
    /// Longest report delay, seconds.
    pub max_report_delay_s: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            min_sensitivity: 0.25,
            max_sensitivity: 4.0,
            actuators: 1,
            max_actuator_level: 1.0,
            channels: 3,
            max_report_delay_s: 86_400,
        }
    }
}

impl Limits {
    /// Checks `command` against the limits.
    pub fn check(&self, command: &Command) -> Result<(), Rejected> {
        let in_range = |v: f32, lo: f32, hi: f32| v.is_finite() && v >= lo && v <= hi;
        match *command {
            Command::SetSensitivity { level } => {
                if in_range(level, self.min_sensitivity, self.max_sensitivity) {
                    Ok(())
                } else {
                    Err(Rejected::OutOfRange)
                }
            }
            Command::SetActuator { actuator, level } => {
                if actuator >= self.actuators {
                    Err(Rejected::NoSuchTarget)
                } else if in_range(level, 0.0, self.max_actuator_level) {
                    Ok(())
                } else {
                    Err(Rejected::OutOfRange)
                }
            }
            Command::ScheduleReport { after_s } => {
                if after_s <= self.max_report_delay_s {
                    Ok(())
                } else {
                    Err(Rejected::OutOfRange)
                }
            }
            Command::ReadSensor { channel } => {
                if channel < self.channels {
                    Ok(())
                } else {
                    Err(Rejected::NoSuchTarget)
                }
            }
        }
    }
}

/// A device function as a model sees it: name, description, JSON Schema of its
/// arguments (strict-mode compatible: every property required, no extras).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToolSpec {
    /// Function name (`Command::name`).
    pub name: &'static str,
    /// What it does, for the model.
    pub description: &'static str,
    /// JSON Schema of the arguments object.
    pub parameters: &'static str,
}

/// Every device function, in the order offered to a model.
pub const TOOLS: [ToolSpec; 4] = [
    ToolSpec {
        name: "set_sensitivity",
        description: "Scale the anomaly detector's alarm thresholds: below 1 reports more, above 1 fewer.",
        parameters: r#"{"type":"object","properties":{"level":{"type":"number","minimum":0.25,"maximum":4}},"required":["level"],"additionalProperties":false}"#,
    },
    ToolSpec {
        name: "set_actuator",
        description: "Drive an actuator (e.g. the machine's speed limiter) to a level between 0 (off) and 1 (full).",
        parameters: r#"{"type":"object","properties":{"actuator":{"type":"integer","minimum":0,"maximum":255},"level":{"type":"number","minimum":0,"maximum":1}},"required":["actuator","level"],"additionalProperties":false}"#,
    },
    ToolSpec {
        name: "schedule_report",
        description: "Send a summary report after the given number of seconds (0 = now).",
        parameters: r#"{"type":"object","properties":{"after_s":{"type":"integer","minimum":0,"maximum":86400}},"required":["after_s"],"additionalProperties":false}"#,
    },
    ToolSpec {
        name: "read_sensor",
        description: "Read a sensor channel now and report its latest features (RMS, peak, crest factor, band energies).",
        parameters: r#"{"type":"object","properties":{"channel":{"type":"integer","minimum":0,"maximum":255}},"required":["channel"],"additionalProperties":false}"#,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_tool_and_limits_refuse_outside() {
        let l = Limits::default();
        let cmds = [
            Command::SetSensitivity { level: 1.0 },
            Command::SetActuator {
                actuator: 0,
                level: 0.5,
            },
            Command::ScheduleReport { after_s: 60 },
            Command::ReadSensor { channel: 2 },
        ];
        for c in &cmds {
            assert!(TOOLS.iter().any(|t| t.name == c.name()), "{c:?}");
            assert_eq!(l.check(c), Ok(()));
        }
        assert_eq!(
            l.check(&Command::SetSensitivity { level: f32::NAN }),
            Err(Rejected::OutOfRange)
        );
        assert_eq!(
            l.check(&Command::SetSensitivity { level: 0.1 }),
            Err(Rejected::OutOfRange)
        );
        assert_eq!(
            l.check(&Command::SetActuator {
                actuator: 1,
                level: 0.5
            }),
            Err(Rejected::NoSuchTarget)
        );
        assert_eq!(
            l.check(&Command::ScheduleReport { after_s: 86_401 }),
            Err(Rejected::OutOfRange)
        );
        assert_eq!(
            l.check(&Command::ReadSensor { channel: 3 }),
            Err(Rejected::NoSuchTarget)
        );
    }
}
