//! The ESP32-C3's hardware RNG.
//!
//! The RNG peripheral mixes physical noise into its state only while the radio or
//! the SAR ADC runs; otherwise its output is merely pseudo-random. [`HwRng`]
//! therefore holds an esp-hal `TrngSource`, which keeps the ADC entropy source on
//! (ADC1 is unavailable while the `HwRng` lives), so every byte is a true random byte.

use esp_hal::{
    peripherals::{ADC1, RNG},
    rng::{Trng, TrngSource},
};

/// The hardware RNG as an [`ioto_core::Entropy`] source and a `rand_core` 0.9
/// [`CryptoRng`](rand_core::CryptoRng).
pub struct HwRng<'d> {
    trng: Trng,
    _source: TrngSource<'d>,
}

impl<'d> HwRng<'d> {
    /// Takes the RNG peripheral and ADC1 (`p.RNG`, `p.ADC1`) and turns the ADC
    /// entropy source on.
    pub fn new(rng: RNG<'d>, adc1: ADC1<'d>) -> Self {
        let source = TrngSource::new(rng, adc1);
        // The source above is enabled, which is the only failure condition.
        let trng = match Trng::try_new() {
            Ok(t) => t,
            Err(_) => unreachable!("TrngSource is enabled"),
        };
        Self {
            trng,
            _source: source,
        }
    }
}

impl ioto_core::Entropy for HwRng<'_> {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        self.trng.read(buf);
    }

    fn next_u32(&mut self) -> u32 {
        self.trng.random()
    }
}

impl rand_core::RngCore for HwRng<'_> {
    fn next_u32(&mut self) -> u32 {
        self.trng.random()
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_u32(self)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.trng.read(dst);
    }
}

impl rand_core::CryptoRng for HwRng<'_> {}
