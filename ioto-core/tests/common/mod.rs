//! Helpers shared by the feature tests.

/// Deterministic uniform numbers in [0, 1) (64-bit LCG, top 53 bits).
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}
