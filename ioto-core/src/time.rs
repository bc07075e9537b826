//! Monotonic time as seen by the device.

/// A point on the device's monotonic clock, in microseconds since boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(pub u64);

impl Instant {
    /// Microseconds since boot.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Milliseconds since boot (truncated).
    pub const fn as_millis(self) -> u64 {
        self.0 / 1_000
    }

    /// Microseconds elapsed from `earlier` to `self`; zero if `earlier` is later.
    pub const fn micros_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// A monotonic clock. Boards implement it over their timer (RTC, SysTick, `mcycle`,
/// `std::time::Instant`).
pub trait Clock {
    /// The current time. Never goes backwards.
    fn now(&self) -> Instant;
}

/// A shared clock is a clock (one clock can stamp a sensor's samples and time the
/// uplink).
impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_arithmetic_saturates() {
        let a = Instant(1_500);
        let b = Instant(4_000);
        assert_eq!(b.micros_since(a), 2_500);
        assert_eq!(a.micros_since(b), 0);
        assert_eq!(b.as_millis(), 4);
    }
}
