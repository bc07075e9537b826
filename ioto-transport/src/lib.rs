//! # ioto-transport
//!
//! How a device talks to the cloud: MQTT 3.1.1 and 5.0, HTTP/1.1 with Server-Sent
//! Events, WebSocket (RFC 6455) and TLS 1.3 with certificate verification. `no_std`,
//! async, generic over `embedded-nal-async` and `embedded-io-async`, with caller-owned
//! buffers and hard size limits. The `std` feature adds adapters for Linux gateways
//! and host tests.
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
#[cfg(feature = "std")]
pub mod std_net;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "ws")]
pub mod ws;
