//! Tests of the device state: shadow JSON, CBOR, config, discovery, and fuzzing.
#![allow(clippy::unwrap_used, clippy::panic)]

mod fuzz;
mod shadow;
mod wire;
