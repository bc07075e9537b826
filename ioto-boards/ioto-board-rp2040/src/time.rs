//! Time on the RP2040: `embassy-time` runs on the 64-bit 1 MHz TIMER peripheral (the
//! `time-driver` feature of `embassy-rp`), started by [`crate::init`]. The board's
//! [`ioto_core::Clock`] is [`EmbassyClock`] from `ioto-core` (one clock for every
//! embassy board); its resolution here is 1 µs.

pub use embassy_time::{Delay, Duration, Instant as EmbassyInstant, Ticker, Timer};
pub use ioto_core::embassy_clock::EmbassyClock;
