//! Small statistics shared by the detectors.

/// An exponentially weighted mean and variance (West's update), with a warm-up during
/// which the weight is `1/n` so the first samples are not biased towards zero.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ewm {
    alpha: f32,
    n: u32,
    mean: f32,
    var: f32,
}

impl Ewm {
    /// A mean with weight `alpha` in `(0, 1]` for each new sample (memory ≈ `1/alpha`
    /// samples).
    pub const fn new(alpha: f32) -> Self {
        Self {
            alpha,
            n: 0,
            mean: 0.0,
            var: 0.0,
        }
    }

    /// Adds `x`.
    pub fn push(&mut self, x: f32) {
        self.n = self.n.saturating_add(1);
        let w = f32::max(self.alpha, 1.0 / self.n as f32);
        let d = x - self.mean;
        self.mean += w * d;
        self.var = (1.0 - w) * (self.var + w * d * d);
    }

    /// Samples seen (saturating).
    pub const fn count(&self) -> u32 {
        self.n
    }

    /// The weighted mean (0 before the first sample).
    pub const fn mean(&self) -> f32 {
        self.mean
    }

    /// The weighted variance (0 before the second sample).
    pub const fn variance(&self) -> f32 {
        self.var
    }

    /// The weighted standard deviation.
    pub fn std(&self) -> f32 {
        libm::sqrtf(self.var)
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        *self = Self::new(self.alpha);
    }
}

/// The upper tail probability `P(Z > z)` of a standard normal variable.
pub(crate) fn normal_tail(z: f32) -> f32 {
    0.5 * libm::erfcf(z * core::f32::consts::FRAC_1_SQRT_2)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ewm_of_a_constant_is_that_constant() {
        let mut e = Ewm::new(0.01);
        for _ in 0..10 {
            e.push(3.5);
        }
        assert_eq!(e.mean(), 3.5);
        assert_eq!(e.variance(), 0.0);
    }

    #[test]
    fn warm_up_gives_the_plain_mean() {
        // While 1/n > alpha the update is the running arithmetic mean: (1+2+3+4)/4.
        let mut e = Ewm::new(0.01);
        for x in [1.0, 2.0, 3.0, 4.0] {
            e.push(x);
        }
        assert!((e.mean() - 2.5).abs() < 1e-6);
        // population variance of 1..4 is 1.25
        assert!((e.variance() - 1.25).abs() < 1e-5, "{}", e.variance());
    }

    #[test]
    fn normal_tail_known_values() {
        // Φ tables: P(Z > 0) = 0.5, P(Z > 1.96) = 0.0250, P(Z > 3) = 0.00135
        assert!((normal_tail(0.0) - 0.5).abs() < 1e-6);
        assert!((normal_tail(1.96) - 0.0250).abs() < 1e-4);
        assert!((normal_tail(3.0) - 0.00135).abs() < 1e-5);
    }
}
