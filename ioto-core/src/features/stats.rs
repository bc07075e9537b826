//! Two-pass time-domain statistics of a window, and the window feature vector.

use super::spectrum::{BandPlan, FftBuffer};
use super::{BLOCK, FeatureError, pow2_above};

/// Time-domain statistics of one window slice, all population forms (see the
/// [module docs](super) for definitions and the constant-signal conventions).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WindowStats {
    /// Arithmetic mean.
    pub mean: f32,
    /// Population standard deviation `√(Σ(x−mean)²/n)`.
    pub std: f32,
    /// `√(Σx²/n)` (equals `hypot(mean, std)`).
    pub rms: f32,
    /// `max |x|`.
    pub peak: f32,
    /// `max x − min x`.
    pub peak_to_peak: f32,
    /// `peak / rms`, in `1..=√n`; 1 for the all-zero window.
    pub crest: f32,
    /// `m3 / m2^1.5`; 0 for a constant window.
    pub skewness: f32,
    /// Excess kurtosis `m4 / m2² − 3`; 0 for a constant window.
    pub kurtosis: f32,
}

impl WindowStats {
    /// Number of statistics in [`to_array`](Self::to_array).
    pub const LEN: usize = 8;

    /// Statistics of `x` (two passes, no division per sample).
    ///
    /// Pass 1 checks the samples and takes min, max and `Σ(x − x₀)`; pass 2 sums powers
    /// of the deviations from that mean, scaled by the exact power of two `2^-k` just
    /// above the range, plus their plain sum to correct the rounding of the first mean
    /// (the "corrected two-pass" algorithm, extended to the 3rd and 4th moments).
    ///
    /// Errors: [`FeatureError::Empty`], [`FeatureError::NonFinite`] (first bad index),
    /// [`FeatureError::Overflow`] if the range or `Σ(x − x₀)` exceeds `f32::MAX`.
    pub fn from_slice(x: &[f32]) -> Result<Self, FeatureError> {
        let x0 = *x.first().ok_or(FeatureError::Empty)?;
        // Pass 1: finiteness, min, max and Σ(x − x₀). Sums run in blocks of BLOCK
        // samples: the rounding error grows with BLOCK + n/BLOCK instead of n.
        let (mut min, mut max, mut sum0) = (x0, x0, 0.0f32);
        for (b, block) in x.chunks(BLOCK).enumerate() {
            let mut partial = 0.0f32;
            for (i, &v) in block.iter().enumerate() {
                if !v.is_finite() {
                    return Err(FeatureError::NonFinite {
                        index: b * BLOCK + i,
                    });
                }
                min = min.min(v);
                max = max.max(v);
                partial += v - x0;
            }
            sum0 += partial;
        }
        let range = max - min;
        if !(range.is_finite() && sum0.is_finite()) {
            return Err(FeatureError::Overflow);
        }
        let n = x.len() as f32;
        let mean0 = (x0 + sum0 / n).clamp(min, max);
        let (scale, inv) = pow2_above(range);
        let (mut s1, mut s2, mut s3, mut s4) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        // Pass 2: powers of the scaled deviations.
        for block in x.chunks(BLOCK) {
            let (mut b1, mut b2, mut b3, mut b4) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
            for &v in block {
                let u = (v - mean0) * inv; // |u| ≤ 4: no overflow in u⁴
                let u2 = u * u;
                b1 += u;
                b2 += u2;
                b3 += u2 * u;
                b4 += u2 * u2;
            }
            s1 += b1;
            s2 += b2;
            s3 += b3;
            s4 += b4;
        }
        // Central sums about the corrected mean mean0 + d (in scaled units).
        let d = s1 / n;
        let c2 = (s2 - s1 * d).max(0.0);
        let c3 = s3 - 3.0 * d * s2 + 2.0 * n * d * d * d;
        let c4 = (s4 - 4.0 * d * s3 + 6.0 * d * d * s2 - 3.0 * n * d * d * d * d).max(0.0);
        let mean = (mean0 + d * scale).clamp(min, max);
        let var_u = c2 / n;
        let std = libm::sqrtf(var_u) * scale;
        let (skewness, kurtosis) = if c2 > 0.0 && range > 0.0 {
            let g1 = libm::sqrtf(n) * (c3 / c2) / libm::sqrtf(c2);
            let g2 = n * (c4 / c2) / c2 - 3.0;
            (finite_or_zero(g1), finite_or_zero(g2))
        } else {
            (0.0, 0.0)
        };
        let peak = libm::fabsf(min).max(libm::fabsf(max));
        // RMS and crest in units of the power of two above the peak: |mean|, std ≤ peak,
        // so nothing overflows and the crest stays finite even for subnormal data.
        let (rms, crest) = if peak == 0.0 {
            (0.0, 1.0)
        } else {
            let (p_scale, p_inv) = pow2_above(peak);
            let rms_p = libm::hypotf(mean * p_inv, libm::sqrtf(var_u) * (scale * p_inv));
            let crest = if rms_p > 0.0 {
                ((peak * p_inv) / rms_p).clamp(1.0, libm::sqrtf(n))
            } else {
                libm::sqrtf(n)
            };
            (rms_p * p_scale, crest)
        };
        if !(mean.is_finite() && std.is_finite() && rms.is_finite()) {
            return Err(FeatureError::Overflow);
        }
        Ok(Self {
            mean,
            std,
            rms,
            peak,
            peak_to_peak: range,
            crest,
            skewness,
            kurtosis,
        })
    }

    /// The statistics as a feature vector, in field order: mean, std, rms, peak,
    /// peak-to-peak, crest, skewness, kurtosis.
    pub const fn to_array(&self) -> [f32; Self::LEN] {
        [
            self.mean,
            self.std,
            self.rms,
            self.peak,
            self.peak_to_peak,
            self.crest,
            self.skewness,
            self.kurtosis,
        ]
    }
}

fn finite_or_zero(v: f32) -> f32 {
    if v.is_finite() { v } else { 0.0 }
}

/// The feature vector of one window: [`WindowStats`] plus the energies of `B` FFT bands.
///
/// ```rust
/// use ioto_core::features::{BandPlan, WindowFeatures};
///
/// let edges = [0.0, 50.0, 150.0, 500.0];
/// let plan = BandPlan::new(1000.0, &edges)?; // Hann window
/// let x: [f32; 128] = core::array::from_fn(|n| {
///     1.0 + libm::sinf(2.0 * core::f32::consts::PI * 100.0 * n as f32 / 1000.0)
/// });
/// let mut scratch = [0.0f32; 128];
/// let f = WindowFeatures::<3>::compute(&x, &mut scratch, &plan)?;
/// assert!((f.stats.mean - 1.0).abs() < 0.02); // 100 Hz is not a whole number of periods
/// assert!(f.bands[1] > 0.45 && f.bands[1] < 0.55); // the 100 Hz tone, mean square 1/2
/// let mut v = [0.0f32; 11];
/// assert_eq!(f.write_to(&mut v)?, 11);
/// # Ok::<(), ioto_core::features::FeatureError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WindowFeatures<const B: usize> {
    /// Time-domain statistics.
    pub stats: WindowStats,
    /// Energy per band, as [`BandPlan::band_energies`] defines it.
    pub bands: [f32; B],
}

impl<const B: usize> WindowFeatures<B> {
    /// Number of values in the flat feature vector ([`write_to`](Self::write_to)).
    pub const LEN: usize = WindowStats::LEN + B;

    /// Features of the window `x` (`x.len() == N`); `scratch` is overwritten by the
    /// FFT. `plan` must have exactly `B` bands.
    ///
    /// Errors: those of [`WindowStats::from_slice`] and [`BandPlan::band_energies`];
    /// [`FeatureError::LengthMismatch`] if `plan` does not have `B` bands.
    pub fn compute<const N: usize>(
        x: &[f32],
        scratch: &mut [f32; N],
        plan: &BandPlan<'_>,
    ) -> Result<Self, FeatureError>
    where
        [f32; N]: FftBuffer,
    {
        let stats = WindowStats::from_slice(x)?;
        let mut bands = [0.0f32; B];
        plan.band_energies(x, scratch, &mut bands)?;
        Ok(Self { stats, bands })
    }

    /// Writes the flat feature vector (the [`WindowStats::to_array`] values, then the
    /// band energies) to the front of `out` and returns its length [`Self::LEN`];
    /// [`FeatureError::LengthMismatch`] if `out` is shorter.
    pub fn write_to(&self, out: &mut [f32]) -> Result<usize, FeatureError> {
        let short = FeatureError::LengthMismatch {
            expected: Self::LEN,
            got: out.len(),
        };
        let dst = out.get_mut(..Self::LEN).ok_or(short)?;
        let (head, tail) = dst.split_at_mut(WindowStats::LEN);
        head.copy_from_slice(&self.stats.to_array());
        tail.copy_from_slice(&self.bands);
        Ok(Self::LEN)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn constant_window_conventions() {
        let s = WindowStats::from_slice(&[7.25; 33]).unwrap();
        let want = WindowStats {
            mean: 7.25,
            std: 0.0,
            rms: 7.25,
            peak: 7.25,
            peak_to_peak: 0.0,
            crest: 1.0,
            skewness: 0.0,
            kurtosis: 0.0,
        };
        assert_eq!(s, want);
        let z = WindowStats::from_slice(&[0.0; 4]).unwrap();
        assert_eq!((z.rms, z.crest, z.kurtosis), (0.0, 1.0, 0.0));
    }

    #[test]
    fn errors_are_typed() {
        assert_eq!(WindowStats::from_slice(&[]), Err(FeatureError::Empty));
        assert_eq!(
            WindowStats::from_slice(&[0.0, 1.0, f32::NAN]),
            Err(FeatureError::NonFinite { index: 2 })
        );
        let mut x = [1.0f32; 200];
        x[130] = f32::NEG_INFINITY; // in the third block of 64
        assert_eq!(
            WindowStats::from_slice(&x),
            Err(FeatureError::NonFinite { index: 130 })
        );
        assert_eq!(
            WindowStats::from_slice(&[3e38, -3e38]),
            Err(FeatureError::Overflow)
        );
        // Range fits but Σ(x − x₀) does not.
        assert_eq!(
            WindowStats::from_slice(&[-1.5e38, 1.5e38, 1.5e38, 1.5e38]),
            Err(FeatureError::Overflow)
        );
    }

    #[test]
    fn tiny_and_huge_spreads_keep_their_shape() {
        // ±1 pattern, kurtosis −2 for a symmetric two-point distribution.
        for s in [1e-20f32, 1e-12, 1.0, 1e12, 1e20] {
            let x = [s, -s, s, -s, s, -s];
            let w = WindowStats::from_slice(&x).unwrap();
            assert!((w.kurtosis + 2.0).abs() < 1e-5, "{s}: {}", w.kurtosis);
            assert!((w.std / s - 1.0).abs() < 1e-6, "{s}: {}", w.std);
            assert!((w.crest - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn write_to_checks_length() {
        let f = WindowFeatures::<2> {
            stats: WindowStats::default(),
            bands: [1.0, 2.0],
        };
        let mut short = [0.0f32; 9];
        assert_eq!(
            f.write_to(&mut short),
            Err(FeatureError::LengthMismatch {
                expected: 10,
                got: 9
            })
        );
        let mut v = [9.0f32; 12];
        assert_eq!(f.write_to(&mut v), Ok(10));
        assert_eq!(&v[8..], &[1.0, 2.0, 9.0, 9.0]);
    }
}
