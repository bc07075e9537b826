//! The device's state: what it reports, what the cloud may change, and the wire forms.
//!
//! - [`document`]: the values ([`Reported`], [`Desired`], [`DeviceState`] with the
//!   shadow version) and the one way desired changes get in —
//!   [`DeviceState::apply`] turns each key into a [`Command`](crate::device::Command)
//!   and checks it with [`Limits::check`](crate::device::Limits::check), the same
//!   path as a cloud model's tool call.
//! - [`shadow_json`]: the AWS IoT Device Shadow (classic shadow) contract — topics
//!   ([`ShadowTopics`]), the reported-state update, and the `/update/delta`,
//!   `/get/accepted`, `/update/accepted` and `/update/rejected` documents.
//! - [`cbor`]: a compact CBOR form (integer-keyed maps) of the reported state and of
//!   desired changes, for links where every byte counts.
//! - [`config`]: the persisted configuration record (postcard, with a schema byte).
//! - [`discovery`]: opt-in Home Assistant MQTT discovery documents.
//!
//! Every decoder is bounded (no recursion on input, nesting ≤ 16, fixed-size
//! results), writes only to caller-owned buffers and answers bad bytes with a
//! [`StateError`], never a panic.
//!
//! ```
//! use ioto_core::device::{Command, Limits, Rejected};
//! use ioto_core::state::{
//!     parse_delta, encode_reported, DeltaOutcome, DeviceState, KeyOutcome, Reported,
//! };
//!
//! let mut state = DeviceState::new(Reported::new("1.2.0"));
//! state.reported.anomaly_score = 0.25;
//!
//! // Report: {"state":{"reported":{...}},"clientToken":"t1"}
//! let mut buf = [0u8; 512];
//! let n = encode_reported(&state.reported, None, "t1", &mut buf).unwrap();
//! let json = core::str::from_utf8(&buf[..n]).unwrap();
//! assert!(json.starts_with(r#"{"state":{"reported":{"sensitivity":1.0,"#));
//!
//! // The cloud asks for a new sensitivity and an actuator level the device refuses.
//! let delta = br#"{"version":7,"timestamp":1700000000,
//!     "state":{"sensitivity":1.5,"actuator":3.0,"colour":"red"},
//!     "metadata":{"sensitivity":{"timestamp":1700000000}}}"#;
//! let delta = parse_delta(delta).unwrap();
//! let DeltaOutcome::Applied(report) = state.apply_delta(&delta, &Limits::default()) else {
//!     panic!("not stale");
//! };
//! let outcomes: Vec<_> = report.iter().map(|r| (r.key, r.outcome)).collect();
//! assert_eq!(outcomes, [
//!     ("sensitivity", KeyOutcome::Applied(Command::SetSensitivity { level: 1.5 })),
//!     ("actuator", KeyOutcome::Rejected(Rejected::OutOfRange)),
//!     ("colour", KeyOutcome::Unknown),
//! ]);
//! assert_eq!(state.reported.sensitivity, 1.5);
//! assert_eq!(state.version, 7);
//!
//! // The same delta again is stale: nothing happens.
//! assert!(matches!(
//!     state.apply_delta(&delta, &Limits::default()),
//!     DeltaOutcome::Stale { .. }
//! ));
//! ```

pub mod cbor;
pub mod config;
pub mod discovery;
pub mod document;
mod json;
pub mod shadow_json;
#[cfg(test)]
mod tests;

pub use document::{
    ApplyReport, DeltaOutcome, Desired, DeviceState, Field, KeyOutcome, KeyResult, Reported,
    StateFields,
};
pub use shadow_json::{
    Delta, GetAccepted, ShadowRejection, ShadowTopic, ShadowTopics, UpdateAccepted, UpdateRejected,
    encode_reported, parse_delta, parse_get_accepted, parse_update_accepted, parse_update_rejected,
};

/// Why a state document could not be encoded or decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StateError {
    /// The output buffer is too small for the document or topic.
    BufferTooSmall,
    /// The input ended in the middle of a value.
    Truncated,
    /// Bytes that are not valid JSON at this offset.
    Syntax {
        /// Byte offset of the problem.
        at: usize,
    },
    /// Arrays/objects nested deeper than the decoder accepts.
    TooDeep,
    /// A field of the wrong type (or a number out of the field's range).
    WrongType,
    /// A required field is missing.
    Missing(&'static str),
    /// A thing name, node id or object id with characters or a length not allowed.
    InvalidName,
    /// Malformed CBOR (or CBOR of the wrong shape).
    Cbor,
    /// Malformed postcard record.
    Postcard,
    /// A configuration record of another schema version.
    SchemaVersion {
        /// The version byte found.
        found: u8,
    },
    /// Bytes left over after a complete record.
    TrailingBytes,
}

/// The class of a [`StateError`], without its details.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StateErrorKind {
    /// [`StateError::BufferTooSmall`].
    BufferTooSmall,
    /// [`StateError::Truncated`].
    Truncated,
    /// [`StateError::Syntax`].
    Syntax,
    /// [`StateError::TooDeep`].
    TooDeep,
    /// [`StateError::WrongType`].
    WrongType,
    /// [`StateError::Missing`].
    Missing,
    /// [`StateError::InvalidName`].
    InvalidName,
    /// [`StateError::Cbor`].
    Cbor,
    /// [`StateError::Postcard`].
    Postcard,
    /// [`StateError::SchemaVersion`].
    SchemaVersion,
    /// [`StateError::TrailingBytes`].
    TrailingBytes,
}

impl StateError {
    /// The class of this error.
    pub const fn kind(&self) -> StateErrorKind {
        match self {
            StateError::BufferTooSmall => StateErrorKind::BufferTooSmall,
            StateError::Truncated => StateErrorKind::Truncated,
            StateError::Syntax { .. } => StateErrorKind::Syntax,
            StateError::TooDeep => StateErrorKind::TooDeep,
            StateError::WrongType => StateErrorKind::WrongType,
            StateError::Missing(_) => StateErrorKind::Missing,
            StateError::InvalidName => StateErrorKind::InvalidName,
            StateError::Cbor => StateErrorKind::Cbor,
            StateError::Postcard => StateErrorKind::Postcard,
            StateError::SchemaVersion { .. } => StateErrorKind::SchemaVersion,
            StateError::TrailingBytes => StateErrorKind::TrailingBytes,
        }
    }
}

impl core::fmt::Display for StateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StateError::BufferTooSmall => f.write_str("output buffer too small"),
            StateError::Truncated => f.write_str("document truncated"),
            StateError::Syntax { at } => write!(f, "invalid JSON at byte {at}"),
            StateError::TooDeep => f.write_str("document nested too deeply"),
            StateError::WrongType => f.write_str("field of the wrong type or range"),
            StateError::Missing(field) => write!(f, "missing field `{field}`"),
            StateError::InvalidName => f.write_str("invalid thing name or identifier"),
            StateError::Cbor => f.write_str("malformed CBOR"),
            StateError::Postcard => f.write_str("malformed configuration record"),
            StateError::SchemaVersion { found } => {
                write!(f, "configuration schema version {found} not supported")
            }
            StateError::TrailingBytes => f.write_str("bytes after the record"),
        }
    }
}

/// A `core::fmt::Write` into a caller-owned buffer (topics, small texts).
pub(crate) struct SliceWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> SliceWriter<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    pub(crate) fn push(&mut self, s: &str) -> Result<(), StateError> {
        let end = self
            .len
            .checked_add(s.len())
            .filter(|&e| e <= self.buf.len())
            .ok_or(StateError::BufferTooSmall)?;
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }

    /// The text written so far (only `&str`s were pushed, so it is UTF-8).
    pub(crate) fn finish(self) -> Result<&'b str, StateError> {
        let SliceWriter { buf, len } = self;
        core::str::from_utf8(&buf[..len]).map_err(|_| StateError::BufferTooSmall)
    }
}
