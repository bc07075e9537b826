//! # ioto-core
//!
//! The device-side heart of Ioto-rs: the traits a board implements (time, sensors,
//! entropy) and, as the framework grows, features, detectors, the edge/cloud policy,
//! store-and-forward queues, device state and the agent loop.
//!
//! Data flows one way through the crates of Ioto-rs:
//!
//! ```text
//! sensor -> features -> detector / model -> policy -> transport -> cloud -> tool call
//! (ioto-core)           (ioto-ml)         (core)    (ioto-transport) (ioto-cloud)
//! ```
//!
//! The crate is `#![no_std]`, allocation-free and HAL-agnostic: boards (see the
//! `ioto-board-*` crates) implement [`Clock`], [`Sensor`] and [`Entropy`].
#![no_std]
#![deny(missing_docs)]

pub mod detect;
pub mod features;
pub mod selftest;
pub mod sensor;
pub mod time;

pub use sensor::{Entropy, Sample, Sensor};
pub use time::{Clock, Instant};
