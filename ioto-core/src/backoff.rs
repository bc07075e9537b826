//! One retry backoff for every link of the device: MQTT reconnects
//! (`ioto-transport`) and cloud-model retries (`ioto-cloud`) both wait with it.
//!
//! Full jitter (attempt `n` waits a uniformly random time in
//! `0..=min(max_ms, base_ms · 2ⁿ)`), so a fleet that lost its broker at the same moment
//! does not come back in step.
//!
//! ```
//! use ioto_core::backoff::Backoff;
//!
//! let b = Backoff { base_ms: 500, max_ms: 30_000 };
//! assert_eq!(b.ceiling_ms(0), 500);
//! assert_eq!(b.ceiling_ms(3), 4_000);
//! assert_eq!(b.ceiling_ms(20), 30_000);
//! // Two devices with different random bits wait different times.
//! assert_ne!(b.delay_ms(3, 17), b.delay_ms(3, 2_001));
//! assert!(b.delay_ms(3, u32::MAX) <= 4_000);
//! ```

/// Full-jitter exponential backoff between attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Backoff {
    /// Upper bound of the first wait, in milliseconds.
    pub base_ms: u32,
    /// Cap of the upper bound, in milliseconds.
    pub max_ms: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base_ms: 500,
            max_ms: 30_000,
        }
    }
}

impl Backoff {
    /// Upper bound of the wait before attempt `attempt` (0-based).
    pub fn ceiling_ms(&self, attempt: u32) -> u32 {
        let shifted = u64::from(self.base_ms) << attempt.min(31);
        shifted.min(u64::from(self.max_ms)) as u32
    }

    /// The wait before attempt `attempt` (0-based), given 32 random bits.
    pub fn delay_ms(&self, attempt: u32, random: u32) -> u32 {
        let ceiling = u64::from(self.ceiling_ms(attempt));
        (u64::from(random) % (ceiling + 1)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_then_caps_without_overflow() {
        let b = Backoff {
            base_ms: 100,
            max_ms: 1_000,
        };
        let c: [u32; 6] = core::array::from_fn(|n| b.ceiling_ms(n as u32));
        assert_eq!(c, [100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(b.ceiling_ms(u32::MAX), 1_000);
        let huge = Backoff {
            base_ms: u32::MAX,
            max_ms: u32::MAX,
        };
        assert_eq!(huge.ceiling_ms(31), u32::MAX);
    }

    #[test]
    fn delay_is_spread_over_the_whole_range() {
        let b = Backoff {
            base_ms: 1_000,
            max_ms: 1_000,
        };
        let mut seen_low = false;
        let mut seen_high = false;
        let mut x = 0x1234_5678u32;
        for _ in 0..1_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let d = b.delay_ms(0, x);
            assert!(d <= 1_000);
            seen_low |= d < 100;
            seen_high |= d > 900;
        }
        assert!(seen_low && seen_high);
    }
}
