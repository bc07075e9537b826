//! [`EmbassyClock`]: the [`Clock`] of every board whose time runs on `embassy-time`
//! (feature `embassy-time`).
//!
//! The board's HAL provides the `embassy-time` driver (RTC1 on the nRF52840, the 1 MHz
//! TIMER on the RP2040, esp-rtos on the ESP32-C3, the instruction counter on the
//! virtual boards); this one clock reads it for all of them.

use crate::time::{Clock, Instant};

/// Microseconds since boot from `embassy_time::Instant::now()`.
///
/// Resolution is one driver tick (≈ 30.5 µs on the nRF52840's RTC, 1 µs on the
/// others); the 64-bit tick count does not wrap during a device's life. Reads 0 until
/// the board has started its time driver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmbassyClock;

impl Clock for EmbassyClock {
    // Inline: only firmware that calls it needs a time driver, not every binary that
    // links ioto-core with the feature on (hosts build with `--all-features`).
    #[inline]
    fn now(&self) -> Instant {
        Instant(embassy_time::Instant::now().as_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embassy_time::{Duration, MockDriver};

    /// The clock follows the driver: the mock driver (embassy-time's own, 1 MHz) moves
    /// only when told to, so the reading is exact.
    #[test]
    fn reads_the_embassy_time_driver() {
        let driver = MockDriver::get();
        driver.reset();
        let before = EmbassyClock.now();
        driver.advance(Duration::from_micros(12_345));
        assert_eq!(EmbassyClock.now().micros_since(before), 12_345);
        assert_eq!(
            EmbassyClock.now().0,
            embassy_time::Instant::now().as_micros()
        );
        driver.advance(Duration::from_secs(3));
        assert_eq!(EmbassyClock.now().micros_since(before), 3_012_345);
    }
}
