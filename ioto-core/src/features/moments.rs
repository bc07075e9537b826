//! Streaming moments: Welford/Terriberry updates on shifted `f32` data, Chan merge.

use super::FeatureError;

/// Streaming accumulator of count, mean, 2nd–4th central moments, min and max.
///
/// Each [`push`](Self::push) is the Welford/Terriberry online update; two accumulators
/// combine with [`merge`](Self::merge) (Chan et al.'s parallel formulas, as generalised
/// to the 3rd and 4th moments by Pébay). The state is 8 words (32 bytes) and `Copy`.
///
/// **Shifted data.** The first sample `x₀` is kept as a shift and the moments are
/// accumulated on `x − x₀`, all in `f32`. For data sitting on a large offset (a pressure
/// of 101 325 Pa, a reading of 1e6 + noise) the subtraction is exact and the noise keeps
/// full single precision; plain `f32` Welford would round the running mean to the
/// offset's ulp (0.0625 at 1e6) and lose most digits of the variance. Accuracy degrades
/// back towards plain Welford only if the data wanders far (≫ its spread) from `x₀`.
/// `f64` would be exact enough without the trick but is software-emulated on every
/// Cortex-M (see the [module docs](super)), ~30–60× slower per sample on a Cortex-M4F.
///
/// **Long streams.** Each update rounds the running sums once, so the relative error of
/// the variance grows with the count, in the worst case like `n·ε` (`ε` = 6e-8):
/// measured 1e-6–1e-4 at 10⁴ samples and up to 4e-3 at 10⁶. For streams longer than a
/// few thousand samples use [`BlockedMoments`], which pushes into blocks of 1 024 and
/// merges them (1e-6 at 10⁶ samples, same cost per sample).
///
/// Statistics of an empty accumulator are 0; see the [module docs](super) for the
/// constant-signal conventions (skewness and excess kurtosis 0, crest factor 1).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Moments {
    n: u32,
    shift: f32,
    mean: f32,
    m2: f32,
    m3: f32,
    m4: f32,
    min: f32,
    max: f32,
}

impl Moments {
    /// An empty accumulator.
    pub const fn new() -> Self {
        Self {
            n: 0,
            shift: 0.0,
            mean: 0.0,
            m2: 0.0,
            m3: 0.0,
            m4: 0.0,
            min: 0.0,
            max: 0.0,
        }
    }

    /// An accumulator holding every sample of `x`, or the error of the first bad sample
    /// (its index in `x` for [`FeatureError::NonFinite`]).
    pub fn from_slice(x: &[f32]) -> Result<Self, FeatureError> {
        let mut m = Self::new();
        m.extend(x)?;
        Ok(m)
    }

    /// Pushes every sample of `x`. On error the samples before the bad one stay pushed
    /// and the error carries the bad sample's index in `x`.
    pub fn extend(&mut self, x: &[f32]) -> Result<(), FeatureError> {
        push_each(x, |v| self.push(v))
    }

    /// Adds one sample.
    ///
    /// A NaN/infinite sample is [`FeatureError::NonFinite`] (index 0); an update whose
    /// moments would overflow `f32` is [`FeatureError::Overflow`]; a full counter is
    /// [`FeatureError::CountOverflow`]. On error the accumulator is unchanged.
    pub fn push(&mut self, x: f32) -> Result<(), FeatureError> {
        if !x.is_finite() {
            return Err(FeatureError::NonFinite { index: 0 });
        }
        if self.n == 0 {
            *self = Self {
                n: 1,
                shift: x,
                min: x,
                max: x,
                ..Self::new()
            };
            return Ok(());
        }
        let count = self.n.checked_add(1).ok_or(FeatureError::CountOverflow)?;
        let n1 = self.n as f32;
        let n = count as f32;
        let delta = (x - self.shift) - self.mean;
        let dn = delta / n;
        let dn2 = dn * dn;
        let t1 = delta * dn * n1;
        let mean = self.mean + dn;
        let m4 =
            self.m4 + t1 * dn2 * (n * n - 3.0 * n + 3.0) + 6.0 * dn2 * self.m2 - 4.0 * dn * self.m3;
        let m3 = self.m3 + t1 * dn * (n - 2.0) - 3.0 * dn * self.m2;
        let m2 = self.m2 + t1;
        self.commit(count, [mean, m2, m3, m4], x, x)
    }

    /// Folds `other` into `self`, as if its samples had been pushed here (up to
    /// rounding). Errors as [`push`](Self::push); on error `self` is unchanged.
    pub fn merge(&mut self, other: &Moments) -> Result<(), FeatureError> {
        if other.n == 0 {
            return Ok(());
        }
        if self.n == 0 {
            *self = *other;
            return Ok(());
        }
        let count = self
            .n
            .checked_add(other.n)
            .ok_or(FeatureError::CountOverflow)?;
        let (na, nb, n) = (self.n as f32, other.n as f32, count as f32);
        let (fa, fb) = (na / n, nb / n);
        // `other`'s mean re-expressed on `self`'s shift.
        let delta = ((other.shift - self.shift) + other.mean) - self.mean;
        let d2 = delta * delta;
        let nab = na * fb; // na·nb/n
        let (a2, a3, b2, b3) = (self.m2, self.m3, other.m2, other.m3);
        let mean = self.mean + delta * fb;
        let m2 = a2 + b2 + d2 * nab;
        let m3 =
            self.m3 + other.m3 + d2 * delta * nab * (fa - fb) + 3.0 * delta * (fa * b2 - fb * a2);
        let m4 = self.m4
            + other.m4
            + d2 * d2 * nab * (fa * fa - fa * fb + fb * fb)
            + 6.0 * d2 * (fa * fa * b2 + fb * fb * a2)
            + 4.0 * delta * (fa * b3 - fb * a3);
        self.commit(count, [mean, m2, m3, m4], other.min, other.max)
    }

    /// Stores a new state (`n = count`, the shifted mean and central sums
    /// `[mean, m2, m3, m4]`, the extremes widened by `min`/`max`) if every sum is
    /// finite; otherwise leaves `self` unchanged.
    fn commit(
        &mut self,
        count: u32,
        sums: [f32; 4],
        min: f32,
        max: f32,
    ) -> Result<(), FeatureError> {
        if !sums.iter().all(|v| v.is_finite()) {
            return Err(FeatureError::Overflow);
        }
        let [mean, m2, m3, m4] = sums;
        *self = Self {
            n: count,
            shift: self.shift,
            mean,
            m2,
            m3,
            m4,
            min: self.min.min(min),
            max: self.max.max(max),
        };
        Ok(())
    }

    /// Empties the accumulator.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Number of samples pushed.
    pub const fn count(&self) -> u32 {
        self.n
    }

    /// Mean; 0 when empty.
    pub fn mean(&self) -> f32 {
        self.shift + self.mean
    }

    /// Population variance `Σ(x−mean)²/n`; 0 when empty.
    pub fn variance(&self) -> f32 {
        if self.n == 0 {
            0.0
        } else {
            (self.m2 / self.n as f32).max(0.0)
        }
    }

    /// Sample variance `Σ(x−mean)²/(n−1)`; 0 for fewer than 2 samples.
    pub fn sample_variance(&self) -> f32 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f32).max(0.0)
        }
    }

    /// Population standard deviation `√variance`.
    pub fn std(&self) -> f32 {
        libm::sqrtf(self.variance())
    }

    /// Sample standard deviation `√sample_variance`.
    pub fn sample_std(&self) -> f32 {
        libm::sqrtf(self.sample_variance())
    }

    /// Skewness `g1 = m3 / m2^1.5` (population form); 0 for a constant signal or fewer
    /// than 2 samples.
    pub fn skewness(&self) -> f32 {
        if self.m2 <= 0.0 {
            return 0.0;
        }
        // √n·M3/M2^1.5, ordered so that no intermediate underflows for tiny M2.
        let g1 = libm::sqrtf(self.n as f32) * (self.m3 / self.m2) / libm::sqrtf(self.m2);
        if g1.is_finite() { g1 } else { 0.0 }
    }

    /// Excess kurtosis `g2 = m4 / m2² − 3` (population form); 0 for a constant signal or
    /// fewer than 2 samples.
    pub fn kurtosis(&self) -> f32 {
        if self.m2 <= 0.0 {
            return 0.0;
        }
        let g2 = self.n as f32 * (self.m4 / self.m2) / self.m2 - 3.0;
        if g2.is_finite() { g2 } else { 0.0 }
    }

    /// Smallest sample; 0 when empty.
    pub const fn min(&self) -> f32 {
        self.min
    }

    /// Largest sample; 0 when empty.
    pub const fn max(&self) -> f32 {
        self.max
    }

    /// Peak `max |x|`; 0 when empty.
    pub fn peak(&self) -> f32 {
        libm::fabsf(self.min).max(libm::fabsf(self.max))
    }

    /// Peak-to-peak `max − min`; 0 when empty (`+∞` only if it exceeds `f32::MAX`).
    pub fn peak_to_peak(&self) -> f32 {
        self.max - self.min
    }

    /// RMS `√(Σx²/n) = √(mean² + variance)`, computed as `hypot(mean, std)` (no
    /// cancellation, no overflow); 0 when empty.
    pub fn rms(&self) -> f32 {
        libm::hypotf(self.mean(), self.std())
    }

    /// Crest factor `peak / rms`: 1 for an empty or all-zero accumulator, otherwise in
    /// `1..=√n` (clamped to `√n` against rounding).
    pub fn crest_factor(&self) -> f32 {
        let peak = self.peak();
        if peak == 0.0 {
            return 1.0;
        }
        (peak / self.rms()).min(libm::sqrtf(self.n as f32))
    }
}

/// [`Moments`] for long streams: samples go into a block of `BLOCK` samples that is
/// [merged](Moments::merge) into a running total when full.
///
/// The rounding error of the variance then grows like `(BLOCK + n/BLOCK)·ε` instead of
/// `n·ε` (measured 1e-6 instead of 4e-3 at 10⁶ samples on a 1e6 offset, `BLOCK` =
/// 1 024), and every block is shifted by its own first sample, so slow drift of the
/// signal costs no precision. Per-sample cost is one [`Moments::push`], plus one merge
/// (~50 `f32` operations, 3 divisions) per block; the state is 64 bytes.
///
/// ```rust
/// use ioto_core::features::BlockedMoments;
///
/// let mut m = BlockedMoments::<1024>::new();
/// for i in 0..10_000u32 {
///     m.push(1e6 + (i % 2) as f32)?; // 1e6 and 1e6 + 1, alternating
/// }
/// let s = m.snapshot()?;
/// assert_eq!(s.count(), 10_000);
/// assert!((s.variance() - 0.25).abs() < 1e-6);
/// # Ok::<(), ioto_core::features::FeatureError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BlockedMoments<const BLOCK: u32 = 1024> {
    total: Moments,
    block: Moments,
}

impl<const BLOCK: u32> BlockedMoments<BLOCK> {
    /// An empty accumulator.
    pub const fn new() -> Self {
        Self {
            total: Moments::new(),
            block: Moments::new(),
        }
    }

    /// Adds one sample; errors as [`Moments::push`] (also when merging the full block
    /// overflows). On error the accumulator is unchanged.
    pub fn push(&mut self, x: f32) -> Result<(), FeatureError> {
        let mut block = self.block;
        block.push(x)?;
        if block.count() >= BLOCK {
            let mut total = self.total;
            total.merge(&block)?;
            *self = Self {
                total,
                block: Moments::new(),
            };
        } else {
            if self.total.count().checked_add(block.count()).is_none() {
                return Err(FeatureError::CountOverflow);
            }
            self.block = block;
        }
        Ok(())
    }

    /// Pushes every sample of `x`; errors as [`Moments::extend`].
    pub fn extend(&mut self, x: &[f32]) -> Result<(), FeatureError> {
        push_each(x, |v| self.push(v))
    }

    /// Number of samples pushed.
    pub const fn count(&self) -> u32 {
        // `push` keeps the sum within u32; saturation is only a formality.
        self.total.count().saturating_add(self.block.count())
    }

    /// Empties the accumulator.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// All samples so far as one [`Moments`] (the total merged with the partial block),
    /// to read statistics from or to [merge](Moments::merge) elsewhere.
    /// [`FeatureError::Overflow`] only if the merged moments exceed `f32` (samples
    /// spreading over ~1e9 or more).
    pub fn snapshot(&self) -> Result<Moments, FeatureError> {
        let mut all = self.total;
        all.merge(&self.block)?;
        Ok(all)
    }
}

/// Pushes every sample of `x` through `push`, stopping at the first error; a
/// non-finite sample's error carries its index in `x`.
fn push_each(
    x: &[f32],
    mut push: impl FnMut(f32) -> Result<(), FeatureError>,
) -> Result<(), FeatureError> {
    for (index, &v) in x.iter().enumerate() {
        push(v).map_err(|e| match e {
            FeatureError::NonFinite { .. } => FeatureError::NonFinite { index },
            other => other,
        })?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_single_sample_are_defined() {
        let m = Moments::new();
        assert_eq!(
            [
                m.mean(),
                m.variance(),
                m.sample_variance(),
                m.skewness(),
                m.kurtosis(),
                m.rms()
            ],
            [0.0; 6]
        );
        assert_eq!(m.crest_factor(), 1.0);
        let m = Moments::from_slice(&[-3.5]).unwrap();
        assert_eq!(
            (m.count(), m.mean(), m.variance(), m.sample_variance()),
            (1, -3.5, 0.0, 0.0)
        );
        assert_eq!(
            (m.skewness(), m.kurtosis(), m.crest_factor()),
            (0.0, 0.0, 1.0)
        );
        assert_eq!((m.peak(), m.peak_to_peak(), m.rms()), (3.5, 0.0, 3.5));
    }

    #[test]
    fn bad_samples_leave_the_state_unchanged() {
        let mut m = Moments::from_slice(&[1.0, 2.0]).unwrap();
        let before = m;
        assert_eq!(m.push(f32::NAN), Err(FeatureError::NonFinite { index: 0 }));
        assert_eq!(
            m.push(f32::NEG_INFINITY),
            Err(FeatureError::NonFinite { index: 0 })
        );
        assert_eq!(
            m.extend(&[3.0, f32::INFINITY]),
            Err(FeatureError::NonFinite { index: 1 })
        );
        assert_eq!(m.count(), 3);
        m = before;
        // (3e38 − 1)⁴ overflows M4: rejected, state kept.
        assert_eq!(m.push(3e38), Err(FeatureError::Overflow));
        assert_eq!(m, before);
        let full = Moments {
            n: u32::MAX,
            ..before
        };
        let mut f = full;
        assert_eq!(f.push(1.0), Err(FeatureError::CountOverflow));
        assert_eq!(f.merge(&before), Err(FeatureError::CountOverflow));
        assert_eq!(f, full);
    }

    #[test]
    fn reset_empties() {
        let mut m = Moments::from_slice(&[1.0, 5.0, 9.0]).unwrap();
        m.reset();
        assert_eq!(m, Moments::new());
        m.push(4.0).unwrap();
        assert_eq!((m.count(), m.mean()), (1, 4.0));
    }

    #[test]
    fn blocked_errors_are_typed_and_atomic() {
        let mut b = BlockedMoments::<2>::new();
        b.extend(&[0.0, 0.0]).unwrap(); // flushed into the total
        b.push(1e10).unwrap();
        let before = b;
        // Completing the block would merge moments of 1e10⁴ scale: rejected, unchanged.
        assert_eq!(b.push(1e10), Err(FeatureError::Overflow));
        assert_eq!(b.push(f32::NAN), Err(FeatureError::NonFinite { index: 0 }));
        assert_eq!(b, before);
        assert_eq!(b.snapshot(), Err(FeatureError::Overflow));
        let almost = Moments {
            n: u32::MAX - 1,
            ..Moments::from_slice(&[1.0]).unwrap()
        };
        let mut full = BlockedMoments::<8> {
            total: almost,
            block: Moments::new(),
        };
        full.push(1.0).unwrap();
        assert_eq!(full.count(), u32::MAX);
        assert_eq!(full.push(1.0), Err(FeatureError::CountOverflow));
        b.reset();
        assert_eq!((b.count(), b.snapshot()), (0, Ok(Moments::new())));
    }

    #[test]
    fn merge_with_empty_is_identity() {
        let a = Moments::from_slice(&[1.0, 2.0, 4.0]).unwrap();
        let mut x = a;
        x.merge(&Moments::new()).unwrap();
        assert_eq!(x, a);
        let mut e = Moments::new();
        e.merge(&a).unwrap();
        assert_eq!(e, a);
    }
}
