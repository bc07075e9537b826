//! The nRF52840's RNG peripheral: a true random number generator driven by thermal
//! noise, used here with the hardware bias correction on.

use embassy_nrf::{Peri, mode::Blocking, peripherals::RNG};

/// The hardware RNG as an [`ioto_core::Entropy`] source and a `rand_core` 0.9
/// [`CryptoRng`](rand_core::CryptoRng).
///
/// Bias correction is enabled, so bytes are uniformly distributed; generation takes
/// roughly 120 µs per byte.
pub struct HwRng<'d> {
    rng: embassy_nrf::rng::Rng<'d, Blocking>,
}

impl<'d> HwRng<'d> {
    /// Takes the RNG peripheral (`p.RNG`) and enables bias correction.
    pub fn new(rng: Peri<'d, RNG>) -> Self {
        let rng = embassy_nrf::rng::Rng::new_blocking(rng);
        rng.set_bias_correction(true);
        Self { rng }
    }

    /// The HAL driver underneath, e.g. for its async API.
    pub fn hal(&mut self) -> &mut embassy_nrf::rng::Rng<'d, Blocking> {
        &mut self.rng
    }
}

impl ioto_core::Entropy for HwRng<'_> {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        self.rng.blocking_fill_bytes(buf);
    }
}

impl rand_core::RngCore for HwRng<'_> {
    fn next_u32(&mut self) -> u32 {
        self.rng.blocking_next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.rng.blocking_next_u64()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.rng.blocking_fill_bytes(dst);
    }
}

impl rand_core::CryptoRng for HwRng<'_> {}
