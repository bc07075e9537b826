#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]

pub mod advisor;
pub mod agent;
pub mod backoff;
pub mod detect;
pub mod device;
#[cfg(feature = "embassy-time")]
pub mod embassy_clock;
pub mod features;
pub mod outbox;
pub mod policy;
pub mod selftest;
pub mod sensor;
pub mod state;
pub mod time;
pub mod uplink;

pub use sensor::{Entropy, Sample, Sensor};
pub use time::{Clock, Instant};
