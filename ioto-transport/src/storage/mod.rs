//! Store-and-forward on NOR flash through `sequential-storage`: the device's
//! [`Outbox`](ioto_core::outbox::Outbox) ([`outbox::FlashOutbox`]) and its persisted
//! configuration ([`config::ConfigStore`]), both over any `embedded-storage-async`
//! `MultiwriteNorFlash`. [`nor_sim::NorSim`] is a strict simulated NOR flash with power
//! cuts, for tests (ours and yours).

pub mod config;
pub mod nor_sim;
pub mod outbox;
