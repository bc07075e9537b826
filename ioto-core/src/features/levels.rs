//! RMS, peak, peak-to-peak and crest factor of one window slice.

use super::{BLOCK, FeatureError, pow2_above};

/// Level statistics of one window: see [`levels`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Levels {
    /// `√(Σx²/n)` of the raw samples (mean included).
    pub rms: f32,
    /// `max |x|`.
    pub peak: f32,
    /// `max x − min x`.
    pub peak_to_peak: f32,
    /// `peak / rms`; 1 for the all-zero window (see the [module docs](super)).
    pub crest: f32,
}

/// RMS, peak, peak-to-peak and crest factor of `x` in two passes (no division per
/// sample).
///
/// The sum of squares is taken of `x · 2^-k` with `2^k` the power of two just above the
/// peak: exact scaling, so squares never overflow (samples up to `f32::MAX`) nor lose
/// the small samples to underflow, and `1 ≤ crest ≤ √n` always holds.
///
/// Errors: [`FeatureError::Empty`], [`FeatureError::NonFinite`] (first bad index), and
/// [`FeatureError::Overflow`] if `max − min` exceeds `f32::MAX`.
///
/// ```rust
/// let l = ioto_core::features::levels(&[3.0, -3.0, 3.0, -3.0])?;
/// assert_eq!((l.rms, l.peak, l.peak_to_peak, l.crest), (3.0, 3.0, 6.0, 1.0));
/// # Ok::<(), ioto_core::features::FeatureError>(())
/// ```
pub fn levels(x: &[f32]) -> Result<Levels, FeatureError> {
    let (min, max) = min_max(x)?;
    let peak = libm::fabsf(min).max(libm::fabsf(max));
    let peak_to_peak = max - min;
    if !peak_to_peak.is_finite() {
        return Err(FeatureError::Overflow);
    }
    if peak_to_peak == 0.0 {
        // Constant window (also all-zero): exact, crest 1 by definition.
        return Ok(Levels {
            rms: peak,
            peak,
            peak_to_peak,
            crest: 1.0,
        });
    }
    let (scale, inv) = pow2_above(peak);
    // Blocked sum: rounding error grows with BLOCK + n/BLOCK rather than n.
    let sum_sq: f32 = x
        .chunks(BLOCK)
        .map(|c| {
            c.iter()
                .map(|&v| {
                    let u = v * inv;
                    u * u
                })
                .sum::<f32>()
        })
        .sum();
    let n = x.len() as f32;
    // sum_sq ≥ (peak/2^k)² ≥ 1/16 > 0, so ms_u > 0 and the division is finite.
    let rms_u = libm::sqrtf(sum_sq / n);
    let crest = ((peak * inv) / rms_u).clamp(1.0, libm::sqrtf(n));
    Ok(Levels {
        rms: rms_u * scale,
        peak,
        peak_to_peak,
        crest,
    })
}

/// RMS `√(Σx²/n)` of `x`; errors as [`levels`].
pub fn rms(x: &[f32]) -> Result<f32, FeatureError> {
    levels(x).map(|l| l.rms)
}

/// Crest factor `peak / rms` of `x` (1 for the all-zero window); errors as [`levels`].
pub fn crest_factor(x: &[f32]) -> Result<f32, FeatureError> {
    levels(x).map(|l| l.crest)
}

/// Peak `max |x|` of `x` in one pass; errors: [`FeatureError::Empty`],
/// [`FeatureError::NonFinite`].
pub fn peak(x: &[f32]) -> Result<f32, FeatureError> {
    let (min, max) = min_max(x)?;
    Ok(libm::fabsf(min).max(libm::fabsf(max)))
}

/// Peak-to-peak `max x − min x` of `x` in one pass; errors as [`levels`].
pub fn peak_to_peak(x: &[f32]) -> Result<f32, FeatureError> {
    let (min, max) = min_max(x)?;
    let p2p = max - min;
    if p2p.is_finite() {
        Ok(p2p)
    } else {
        Err(FeatureError::Overflow)
    }
}

/// `(min, max)` of a non-empty slice of finite samples, in one pass.
pub(super) fn min_max(x: &[f32]) -> Result<(f32, f32), FeatureError> {
    let first = *x.first().ok_or(FeatureError::Empty)?;
    let (mut lo, mut hi) = (first, first);
    for (index, &v) in x.iter().enumerate() {
        if !v.is_finite() {
            return Err(FeatureError::NonFinite { index });
        }
        lo = lo.min(v);
        hi = hi.max(v);
    }
    Ok((lo, hi))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_typed() {
        assert_eq!(levels(&[]), Err(FeatureError::Empty));
        assert_eq!(peak(&[]), Err(FeatureError::Empty));
        assert_eq!(
            rms(&[1.0, f32::NAN]),
            Err(FeatureError::NonFinite { index: 1 })
        );
        assert_eq!(
            peak(&[f32::INFINITY]),
            Err(FeatureError::NonFinite { index: 0 })
        );
        assert_eq!(
            peak_to_peak(&[f32::MAX, -f32::MAX]),
            Err(FeatureError::Overflow)
        );
        assert_eq!(
            crest_factor(&[f32::MAX, -f32::MAX]),
            Err(FeatureError::Overflow)
        );
    }

    #[test]
    fn zero_and_constant_windows() {
        let z = levels(&[0.0; 8]).unwrap();
        assert_eq!(
            z,
            Levels {
                rms: 0.0,
                peak: 0.0,
                peak_to_peak: 0.0,
                crest: 1.0
            }
        );
        let c = levels(&[-2.5; 5]).unwrap();
        assert_eq!(
            c,
            Levels {
                rms: 2.5,
                peak: 2.5,
                peak_to_peak: 0.0,
                crest: 1.0
            }
        );
    }

    #[test]
    fn extreme_magnitudes_stay_finite() {
        // Squares of 1e30 overflow f32 and squares of 1e-30 underflow; scaling avoids both.
        let big = levels(&[1e30, -1e30, 1e30, -1e30]).unwrap();
        assert!((big.rms / 1e30 - 1.0).abs() < 1e-6);
        let tiny = levels(&[3e-30, 0.0, 0.0, 0.0]).unwrap();
        assert!((tiny.rms / 1.5e-30 - 1.0).abs() < 1e-6);
        assert!((tiny.crest - 2.0).abs() < 1e-6);
        let sub = levels(&[1e-45, 0.0, 0.0, 0.0]).unwrap(); // a subnormal spike
        assert!((sub.crest - 2.0).abs() < 1e-6);
    }

    #[test]
    fn impulse_crest_is_sqrt_n() {
        let mut x = [0.0f32; 64];
        x[10] = -4.0;
        let l = levels(&x).unwrap();
        assert!((l.crest - 8.0).abs() < 1e-6);
        assert!((l.rms - 0.5).abs() < 1e-7);
        assert_eq!((l.peak, l.peak_to_peak), (4.0, 4.0));
    }
}
