#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod broker;
pub mod demo;
pub mod detectors;
pub mod flash_file;
pub mod gateway;
pub mod logger;
pub mod replay;
pub mod report;
pub mod series_csv;
pub mod service;

use std::time::Instant as StdInstant;

use ioto_core::{Clock, Entropy, Instant};

/// A monotonic clock counting from its creation, over `std::time::Instant`.
#[derive(Clone, Copy, Debug)]
pub struct HostClock {
    start: StdInstant,
}

impl HostClock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        Self {
            start: StdInstant::now(),
        }
    }
}

impl Default for HostClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for HostClock {
    fn now(&self) -> Instant {
        let micros = self.start.elapsed().as_micros();
        Instant(u64::try_from(micros).unwrap_or(u64::MAX))
    }
}

/// Entropy from the operating system (`/dev/urandom`), falling back to a
/// time-seeded xorshift only if the device cannot be read.
#[derive(Debug, Default)]
pub struct HostEntropy {
    fallback: u64,
}

impl Entropy for HostEntropy {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        use std::io::Read;
        if let Ok(mut f) = std::fs::File::open("/dev/urandom")
            && f.read_exact(buf).is_ok()
        {
            return;
        }
        if self.fallback == 0 {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x9E37_79B9_7F4A_7C15);
            self.fallback = t | 1;
        }
        for b in buf {
            let mut x = self.fallback;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.fallback = x;
            *b = x as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic() {
        let c = HostClock::new();
        let a = c.now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = c.now();
        assert!(b.micros_since(a) >= 2_000);
    }

    #[test]
    fn entropy_differs_between_draws() {
        let mut e = HostEntropy::default();
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        e.fill_bytes(&mut a);
        e.fill_bytes(&mut b);
        assert_ne!(a, b);
    }
}
