#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]

pub mod detect;
pub mod features;
pub mod selftest;
pub mod sensor;
pub mod time;

pub use sensor::{Entropy, Sample, Sensor};
pub use time::{Clock, Instant};
