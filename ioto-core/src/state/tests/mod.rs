//! Tests of the device state: shadow JSON, CBOR, config, discovery, and fuzzing.
#![allow(clippy::unwrap_used)]

mod fuzz;
mod shadow;
mod wire;
