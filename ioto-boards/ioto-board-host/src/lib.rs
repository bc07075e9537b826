#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod broker;
pub mod demo;
pub mod detectors;
pub mod flash_file;
pub mod gateway;
pub mod logger;
pub mod platform;
pub mod replay;
pub mod report;
pub mod series_csv;
pub mod service;

pub use platform::{HostClock, HostEntropy};
