//! Time on the RP2040: `embassy-time` runs on the 64-bit 1 MHz TIMER peripheral (the
//! `time-driver` feature of `embassy-rp`), started by [`crate::init`].

pub use embassy_time::{Delay, Duration, Instant as EmbassyInstant, Ticker, Timer};

/// The board's [`ioto_core::Clock`]: microseconds since boot from `embassy-time`.
///
/// Resolution is 1 µs (the TIMER counts the 1 MHz tick from the watchdog block);
/// the 64-bit counter does not wrap during the device's life.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbassyClock;

impl ioto_core::Clock for EmbassyClock {
    fn now(&self) -> ioto_core::Instant {
        ioto_core::Instant(embassy_time::Instant::now().as_micros())
    }
}
