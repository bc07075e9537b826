#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]

pub mod mqtt;
pub mod storage;
pub mod uplink;
#[cfg(feature = "std")]
extern crate std;
#[cfg(feature = "http")]
pub mod http;
pub mod sse;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "ws")]
pub mod ws;
