//! Random bytes on the RP2040, which has no dedicated TRNG: the ring oscillator's
//! `RANDOMBIT` register (sampled jitter of the free-running ROSC), debiased with a
//! von Neumann extractor.
//!
//! Raw `RANDOMBIT` samples are biased and correlated, so [`HwRng`] reads them in pairs
//! and keeps one bit per unequal pair (`01` → 0, `10` → 1), which removes the bias of
//! independent samples at the cost of ≥ 4 reads per output bit. This is fine for
//! client ids, WebSocket masks, backoff jitter and for *seeding* a CSPRNG; it is not
//! a certified entropy source, so do not use it directly as key material.
//!
//! The ROSC must keep running (it does unless the firmware stops it for dormant
//! mode) and must not be clocked at a harmonic of the bus clock (it is not with
//! `embassy-rp`'s clock configuration).

use embassy_rp::clocks::RoscRng;

/// Upper bound on `RANDOMBIT` pairs read per output bit before giving up on
/// debiasing and taking the raw sample (a stopped ROSC returns a constant bit; this
/// bound keeps [`HwRng`] from spinning forever in that case).
const MAX_PAIRS_PER_BIT: u32 = 64;

/// The ROSC random source as an [`ioto_core::Entropy`] source and a `rand_core` 0.9
/// [`RngCore`](rand_core::RngCore).
#[derive(Clone, Copy, Debug, Default)]
pub struct HwRng {
    _private: (),
}

impl HwRng {
    /// A handle on the ROSC random source. The ROSC is a shared clock, not an owned
    /// peripheral, so any number of handles may exist.
    pub const fn new() -> Self {
        Self { _private: () }
    }

    /// One debiased bit.
    fn bit(&mut self) -> u8 {
        let mut last = 0;
        for _ in 0..MAX_PAIRS_PER_BIT {
            let a = raw_bit();
            let b = raw_bit();
            if a != b {
                return a;
            }
            last = a;
        }
        last
    }

    fn byte(&mut self) -> u8 {
        (0..8).fold(0u8, |acc, _| (acc << 1) | self.bit())
    }
}

/// One raw `ROSC.RANDOMBIT` sample.
fn raw_bit() -> u8 {
    // `RoscRng::next_u8` samples RANDOMBIT eight times; keeping only its low bit (the
    // last sample) spaces the samples we use eight bus reads apart, which lets the
    // ROSC (≈ 6 MHz, far slower than the bus) move on between them and reduces the
    // correlation of neighbouring samples.
    RoscRng::next_u8() & 1
}

impl ioto_core::Entropy for HwRng {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for b in buf.iter_mut() {
            *b = self.byte();
        }
    }
}

impl rand_core::RngCore for HwRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        ioto_core::Entropy::fill_bytes(self, dst);
    }
}
