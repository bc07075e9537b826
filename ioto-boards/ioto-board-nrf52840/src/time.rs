//! Time on the nRF52840: `embassy-time` runs on RTC1 at 32 768 ticks per second
//! (the `time-driver-rtc1` feature of `embassy-nrf`), started by [`crate::init`].
//! The board's [`ioto_core::Clock`] is [`EmbassyClock`] from `ioto-core` (one
//! clock for every embassy board); its resolution here is one RTC tick (≈ 30.5 µs).

pub use embassy_time::{Delay, Duration, Instant as EmbassyInstant, Ticker, Timer};
pub use ioto_core::embassy_clock::EmbassyClock;
