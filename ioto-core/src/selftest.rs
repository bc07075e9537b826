//! Power-on self tests of what a board provides: a clock that never goes back and an
//! entropy source that is not stuck. Boards run them in their on-target test suites;
//! firmware can run them at boot before trusting the clock for TLS or the entropy for
//! keys.

use crate::{Clock, Entropy};

/// Which check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfTestError {
    /// A later reading of the clock was earlier than the one before it.
    ClockWentBack,
    /// Two 256-bit draws were identical (probability 2^-256 for a working source).
    EntropyRepeated,
    /// The count of one bits in 2 048 drawn bits was this far from fair (more than
    /// six standard deviations: a healthy source fails ~1e-9 of the time).
    EntropyBiased {
        /// One bits counted out of 2 048.
        ones: u32,
    },
}

impl core::fmt::Display for SelfTestError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::ClockWentBack => f.write_str("clock went backwards"),
            Self::EntropyRepeated => f.write_str("entropy source repeated a 256-bit draw"),
            Self::EntropyBiased { ones } => {
                write!(f, "entropy source biased: {ones} ones in 2048 bits")
            }
        }
    }
}

impl core::error::Error for SelfTestError {}

/// Reads `clock` `reads` times in a row; every reading must be ≥ the one before.
pub fn clock_is_monotonic(clock: &impl Clock, reads: u32) -> Result<(), SelfTestError> {
    let mut last = clock.now();
    for _ in 0..reads {
        let now = clock.now();
        if now < last {
            return Err(SelfTestError::ClockWentBack);
        }
        last = now;
    }
    Ok(())
}

/// Two 32-byte draws must differ (a stuck generator repeats itself).
pub fn entropy_varies(rng: &mut impl Entropy) -> Result<(), SelfTestError> {
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    rng.fill_bytes(&mut a);
    rng.fill_bytes(&mut b);
    if a == b {
        Err(SelfTestError::EntropyRepeated)
    } else {
        Ok(())
    }
}

/// 2 048 drawn bits must hold 1 024 ± 136 ones (± 6 standard deviations).
pub fn entropy_is_balanced(rng: &mut impl Entropy) -> Result<(), SelfTestError> {
    let mut buf = [0u8; 256];
    rng.fill_bytes(&mut buf);
    let ones: u32 = buf.iter().map(|b| b.count_ones()).sum();
    if (888..=1160).contains(&ones) {
        Ok(())
    } else {
        Err(SelfTestError::EntropyBiased { ones })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Instant;
    use core::cell::Cell;

    struct Steps<'a>(&'a [u64], Cell<usize>);
    impl Clock for Steps<'_> {
        fn now(&self) -> Instant {
            let i = self.1.get();
            self.1.set(i + 1);
            Instant(self.0[i.min(self.0.len() - 1)])
        }
    }

    struct Counter(u32);
    impl Entropy for Counter {
        fn fill_bytes(&mut self, buf: &mut [u8]) {
            for b in buf {
                // xorshift32: balanced enough for the 6-sigma bound
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 17;
                self.0 ^= self.0 << 5;
                *b = self.0 as u8;
            }
        }
    }

    struct Constant(u8);
    impl Entropy for Constant {
        fn fill_bytes(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    #[test]
    fn clock_checks() {
        assert_eq!(
            clock_is_monotonic(&Steps(&[1, 2, 2, 5], Cell::new(0)), 3),
            Ok(())
        );
        assert_eq!(
            clock_is_monotonic(&Steps(&[1, 2, 1], Cell::new(0)), 3),
            Err(SelfTestError::ClockWentBack)
        );
    }

    #[test]
    fn entropy_checks() {
        assert_eq!(entropy_varies(&mut Counter(7)), Ok(()));
        assert_eq!(entropy_is_balanced(&mut Counter(7)), Ok(()));
        assert_eq!(
            entropy_varies(&mut Constant(0x55)),
            Err(SelfTestError::EntropyRepeated)
        );
        assert_eq!(
            entropy_is_balanced(&mut Constant(0xFF)),
            Err(SelfTestError::EntropyBiased { ones: 2048 })
        );
    }
}
