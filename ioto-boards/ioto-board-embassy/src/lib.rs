#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]

pub mod credentials;
pub mod net;
#[cfg(feature = "rtt")]
pub mod rtt_console;
pub mod storage;

pub use credentials::{Credentials, CredentialsError, Field, Secret, Source};
pub use embassy_net;
pub use ioto_core::embassy_clock::EmbassyClock;
pub use net::{MqttConnector, Net, NetError};
pub use storage::{FlashPartition, Layout, LayoutError, SharedFlash, Storage};

#[cfg(test)]
mod tests;
