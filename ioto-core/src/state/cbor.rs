//! The compact CBOR form: [`Reported`] and [`Desired`] as maps with small integer
//! keys (the `n(..)` numbers on their fields), for links where every byte counts.
//!
//! | key | reported | desired |
//! |---|---|---|
//! | 0 | sensitivity (f32) | sensitivity (f32, optional) |
//! | 1 | actuator (f32) | actuator (f32, optional) |
//! | 2 | report_interval_s (u32) | report_interval_s (u32, optional) |
//! | 3 | anomaly_score (f32) | |
//! | 4 | rms (f32) | |
//! | 5 | firmware (text) | |
//! | 6 | uptime_s (u64) | |
//! | 7 | queue_depth (u32) | |
//!
//! Unknown keys are skipped; a missing reported key, a wrong type or trailing bytes
//! are a [`StateError::Cbor`] / [`StateError::TrailingBytes`].

use minicbor::encode::write::Cursor;
use minicbor::{Decode, Decoder, Encode};

use super::{Desired, Reported, StateError};

fn encode<T: Encode<()>>(value: &T, out: &mut [u8]) -> Result<usize, StateError> {
    let mut cursor = Cursor::new(out);
    minicbor::encode(value, &mut cursor).map_err(|_| StateError::BufferTooSmall)?;
    Ok(cursor.position())
}

fn decode<'b, T: Decode<'b, ()>>(bytes: &'b [u8]) -> Result<T, StateError> {
    let mut d = Decoder::new(bytes);
    let value = d.decode().map_err(|_| StateError::Cbor)?;
    if d.position() == bytes.len() {
        Ok(value)
    } else {
        Err(StateError::TrailingBytes)
    }
}

/// Writes `reported` as CBOR into `out`; returns the length.
pub fn encode_reported(reported: &Reported<'_>, out: &mut [u8]) -> Result<usize, StateError> {
    encode(reported, out)
}

/// Reads a CBOR reported state (the firmware text borrows from `bytes`).
pub fn decode_reported(bytes: &[u8]) -> Result<Reported<'_>, StateError> {
    decode(bytes)
}

/// Writes a desired change as CBOR into `out` (absent keys are left out).
pub fn encode_desired(desired: &Desired, out: &mut [u8]) -> Result<usize, StateError> {
    encode(desired, out)
}

/// Reads a CBOR desired change; apply it with
/// [`DeviceState::apply_desired`](super::DeviceState::apply_desired).
pub fn decode_desired(bytes: &[u8]) -> Result<Desired, StateError> {
    decode(bytes)
}
