//! Time on the nRF52840: `embassy-time` runs on RTC1 at 32 768 ticks per second
//! (the `time-driver-rtc1` feature of `embassy-nrf`), started by [`crate::init`].

pub use embassy_time::{Delay, Duration, Instant as EmbassyInstant, Ticker, Timer};

/// The board's [`ioto_core::Clock`]: microseconds since boot from `embassy-time`.
///
/// Resolution is one RTC tick (≈ 30.5 µs); the 64-bit tick counter does not wrap
/// during the device's life.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbassyClock;

impl ioto_core::Clock for EmbassyClock {
    fn now(&self) -> ioto_core::Instant {
        ioto_core::Instant(embassy_time::Instant::now().as_micros())
    }
}
