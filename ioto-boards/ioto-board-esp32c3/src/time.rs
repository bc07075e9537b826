//! Time on the ESP32-C3: `embassy-time` is driven by esp-rtos (1 MHz ticks) on timer 0
//! of TIMG0, started by [`crate::start_rtos`].

pub use embassy_time::{Delay, Duration, Instant as EmbassyInstant, Ticker, Timer};

/// The board's [`ioto_core::Clock`]: microseconds since boot from `embassy-time`.
///
/// Resolution is 1 µs; the 64-bit tick count does not wrap during the device's
/// life. Reads 0 until [`crate::start_rtos`] has run.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbassyClock;

impl ioto_core::Clock for EmbassyClock {
    fn now(&self) -> ioto_core::Instant {
        ioto_core::Instant(embassy_time::Instant::now().as_micros())
    }
}
