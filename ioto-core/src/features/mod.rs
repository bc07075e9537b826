//! Streaming features of a sensor signal: mean/variance, RMS, peak, crest factor,
//! kurtosis and FFT band energies.
//!
//! | item | what it computes | cost shape |
//! |---|---|---|
//! | [`Moments`] | streaming count, mean, variance, skewness, excess kurtosis, min/max, RMS, crest; [`Moments::merge`] | one `push` per sample (1 division) |
//! | [`BlockedMoments`] | the same for long streams (≫ 10⁴ samples): blocks merged into a total | as [`Moments`] |
//! | [`levels`], [`rms`], [`peak`], [`peak_to_peak`], [`crest_factor`] | RMS/peak/peak-to-peak/crest of one window slice | 1–2 passes, no division per sample |
//! | [`WindowStats`] | every time-domain statistic of one window slice (two-pass, most accurate) | 2 passes |
//! | [`BandPlan`] | FFT band energies of one window (`microfft`, Hann or rectangular) | one real FFT |
//! | [`WindowFeatures`] | [`WindowStats`] + band energies: the feature vector of a window | 2 passes + 1 FFT |
//! | [`levels_i16`] | mean, RMS, std, peak, peak-to-peak, crest of raw `i16` samples, integer arithmetic only | 1 pass |
//! | [`audio`] | TFLM's micro audio front end (log mel filterbank energies of 16-bit PCM, integer only, bit-exact with TensorFlow), a WAVE reader | 1 fixed-point FFT per window |
//!
//! Every function takes caller-owned buffers (no heap) and returns a [`FeatureError`]
//! instead of panicking on bad input: an empty window, a NaN/infinite sample, a length
//! that does not match, band edges that are not increasing. Results are never NaN:
//! degenerate inputs have documented values (see *Defined results* below).
//!
//! # Examples
//!
//! Streaming moments, one sample at a time, and a merge of two halves:
//!
//! ```rust
//! use ioto_core::features::Moments;
//!
//! let mut all = Moments::new();
//! let (mut a, mut b) = (Moments::new(), Moments::new());
//! for (i, x) in [2.0f32, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0].into_iter().enumerate() {
//!     all.push(x)?;
//!     if i < 4 { a.push(x)? } else { b.push(x)? }
//! }
//! a.merge(&b)?;
//! assert_eq!(all.count(), 8);
//! assert!((all.mean() - 5.0).abs() < 1e-6);
//! assert!((all.std() - 2.0).abs() < 1e-6); // population standard deviation
//! assert!((a.variance() - all.variance()).abs() < 1e-5);
//! # Ok::<(), ioto_core::features::FeatureError>(())
//! ```
//!
//! Time-domain statistics of a window: a sampled sine of amplitude 2 over whole periods
//! has RMS 2/√2, crest factor √2 and excess kurtosis −1.5:
//!
//! ```rust
//! use ioto_core::features::WindowStats;
//!
//! let mut x = [0.0f32; 64];
//! for (n, v) in x.iter_mut().enumerate() {
//!     *v = 2.0 * libm::sinf(2.0 * core::f32::consts::PI * 4.0 * n as f32 / 64.0);
//! }
//! let s = WindowStats::from_slice(&x)?;
//! assert!((s.rms - core::f32::consts::SQRT_2).abs() < 1e-5);
//! assert!((s.crest - core::f32::consts::SQRT_2).abs() < 1e-5);
//! assert!((s.kurtosis + 1.5).abs() < 1e-4);
//! # Ok::<(), ioto_core::features::FeatureError>(())
//! ```
//!
//! FFT band energies: a tone of amplitude 1 at 125 Hz, sampled at 1 kHz, lands in the
//! 100–200 Hz band with energy 1²/2 (its mean square):
//!
//! ```rust
//! use ioto_core::features::{BandPlan, WindowFunction};
//!
//! let edges = [0.0, 100.0, 200.0, 500.0];
//! let plan = BandPlan::new(1000.0, &edges)?.with_window(WindowFunction::Hann);
//! let mut x = [0.0f32; 256];
//! for (n, v) in x.iter_mut().enumerate() {
//!     *v = libm::cosf(2.0 * core::f32::consts::PI * 125.0 * n as f32 / 1000.0);
//! }
//! let mut scratch = [0.0f32; 256];
//! let mut energy = [0.0f32; 3];
//! let total = plan.band_energies(&x, &mut scratch, &mut energy)?;
//! assert!((energy[1] - 0.5).abs() < 1e-4);
//! assert!(energy[0] < 1e-6 && energy[2] < 1e-6);
//! assert!((total - 0.5).abs() < 1e-4);
//! # Ok::<(), ioto_core::features::FeatureError>(())
//! ```
//!
//! # Definitions
//!
//! * Variance, standard deviation, skewness and kurtosis are the *population* (biased,
//!   `1/n`) forms: `m_k = Σ(x−mean)^k / n`, skewness `g1 = m3 / m2^1.5`, excess kurtosis
//!   `g2 = m4 / m2² − 3` (0 for a Gaussian, −1.2 for uniform noise, −1.5 for a sine).
//!   [`Moments::sample_variance`] gives the `1/(n−1)` form.
//! * RMS is `√(Σx²/n)` of the raw samples (it includes the mean); `rms² = mean² + variance`.
//! * Peak is `max |x|`, peak-to-peak `max x − min x`, crest factor `peak / RMS`.
//! * Band energies: see [`BandPlan`] (Parseval-consistent: the energies of bands that
//!   cover `0..=fs/2` add up to the mean square of the signal).
//!
//! # Defined results
//!
//! * An empty window is [`FeatureError::Empty`]. An empty [`Moments`] reports 0 for
//!   every statistic (check [`Moments::count`]).
//! * A constant signal (variance exactly 0, also a single sample) has variance 0,
//!   standard deviation 0, skewness **0** and excess kurtosis **0** (the 0/0 forms are
//!   defined as "no asymmetry, no tails").
//! * Crest factor of a constant signal `c ≠ 0` is 1 (peak = RMS = |c|); of the all-zero
//!   signal it is defined as **1** as well, the limit along constant signals, so a dead
//!   sensor does not look impulsive. For any other signal `1 ≤ crest ≤ √n`.
//! * Samples must be finite: a NaN or ±∞ sample is [`FeatureError::NonFinite`] (with its
//!   index in the slice) and is never folded into a result. A result whose true value
//!   does not fit in `f32` (data spreading over ~1e36) is [`FeatureError::Overflow`].
//!
//! # Numerical stability
//!
//! * Window statistics ([`WindowStats`]) use a two-pass algorithm: the mean, then the
//!   central sums of the deviations, with the classic correction term for the rounding
//!   of the first-pass mean. Deviations are scaled by an exact power of two so that
//!   their 4th powers neither overflow (data spreads beyond ~4e9) nor underflow (spreads
//!   below ~1e-10, e.g. nT fluctuations logged in tesla): scaling by 2^k changes no digit.
//! * [`Moments`] accumulates in `f32` on data *shifted* by its first sample
//!   (Welford/Terriberry updates on `x − x₀`). A reading of 1e6 + noise is stored as
//!   1e6 exactly plus small deviations, so the mean/variance of the noise keep full `f32`
//!   precision, where plain `f32` Welford loses most digits (its running mean has an ulp
//!   of 0.0625 at 1e6). `f64` accumulators were rejected: see the cost notes below.
//!   Measured on 1e6 + U(−1, 1) noise against an `f64` reference, 10⁴ samples: variance
//!   relative error 1.5e-6 (plain `f32` Welford: 1e-2; on 1e4 + 0.01·U: 5e-6 vs 0.11).
//!   Limit: each update rounds the running sums, so the error grows with the count
//!   (up to 4e-3 at 10⁶ samples); [`BlockedMoments`] merges blocks of 1 024 samples and
//!   stays at ~1e-6 there. Window statistics sum in blocks of 64 for the same reason.
//!
//! # Cost on microcontrollers
//!
//! All floating point here is `f32`. On a Cortex-M4F/M33F (single-precision FPU) an
//! `f32` add/mul is 1 cycle and a division 14. On the **Cortex-M0+ (RP2040, nRF51,
//! SAMD21, STM32G0/L0) there is no FPU: every `f32` operation is a software routine**,
//! roughly 50–100 cycles per add/mul, 20–40 per compare and 150–400 per division
//! (RP2040's ROM float routines are 2–3× faster than the compiler's). `f64` is
//! software-emulated on *both* (the M4F FPU is single precision): ~60–100 cycles per
//! add/mul on M4F, i.e. ~30–60× an `f32` operation there, and 2–3× `f32` on M0+; that
//! is why accumulators are `f32` with the shift trick rather than `f64`.
//!
//! Estimated costs, from operation counts (measured instruction counts belong in the
//! board benchmarks):
//!
//! | operation | `f32` operations | M4F cycles (est.) | M0+ cycles (est.) |
//! |---|---|---|---|
//! | [`Moments::push`], [`BlockedMoments::push`] | ~22 mul/add + 1 div + 2 cmp per sample | ~50 / sample | 1 500–2 800 / sample |
//! | [`levels`] | 3 mul/add + 2 cmp per sample | ~8 / sample | 200–400 / sample |
//! | [`WindowStats::from_slice`] | 11 mul/add + 2 cmp per sample, 4 div + 3 sqrt per window | ~25 / sample | 600–1 200 / sample |
//! | [`BandPlan::band_energies`], N = 256 | FFT ≈ (N/4)·log₂(N/2)·10 + 20·N/4, bands ≈ 16·N/2: ≈ 8 000 per window, + 2N cmp | 15–25 k / window | 0.4–0.8 M / window |
//! | [`levels_i16`] | none: 1 32-bit mul, two 64-bit adds, 2 cmp per sample | ~6 / sample | ~10 / sample |
//!
//! So on a Cortex-M0+ at 48 MHz, a 256-sample window every 256 ms (1 kHz) costs roughly
//! 3–6 ms for [`WindowStats`] and 8–17 ms for the 256-point band energies (5–9 % of
//! the CPU), while streaming [`Moments`] costs 30–60 µs per sample (3–6 % at 1 kHz).
//! Prefer window statistics over per-sample [`Moments`] on the M0+ (no per-sample
//! division), and [`levels_i16`] when RMS/peak of raw ADC counts suffice. The Hann
//! window is applied in the frequency domain (3 taps on the spectrum): no `cos` per
//! sample and no window table in RAM. RAM: the caller's window and an `N`-float scratch
//! buffer (1 KiB for N = 256); flash: `microfft`'s 512-point sine table (~0.5 KiB).

pub mod audio;
mod fixed;
mod levels;
mod moments;
mod spectrum;
mod stats;

pub use fixed::{LevelsI16, levels_i16};
pub use levels::{Levels, crest_factor, levels, peak, peak_to_peak, rms};
pub use moments::{BlockedMoments, Moments};
pub use spectrum::{BandPlan, FftBuffer, WindowFunction};
pub use stats::{WindowFeatures, WindowStats};

/// Why a feature could not be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FeatureError {
    /// The window has no samples.
    Empty,
    /// A sample is NaN or infinite; `index` is its position in the slice (0 for a
    /// single [`Moments::push`]).
    NonFinite {
        /// Position of the offending sample.
        index: usize,
    },
    /// A result or intermediate does not fit in `f32` (samples spread over ~1e36 or more).
    Overflow,
    /// More than `u32::MAX` samples: a full [`Moments`] accumulator, or an `i16` window
    /// that long for [`levels_i16`].
    CountOverflow,
    /// A slice has the wrong length (window vs FFT size, output vs number of bands).
    LengthMismatch {
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Band edges are fewer than 2, negative, not finite or not strictly increasing.
    InvalidBands,
    /// The sample rate is not a finite positive number.
    InvalidSampleRate,
}

impl core::fmt::Display for FeatureError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Empty => f.write_str("empty window"),
            Self::NonFinite { index } => write!(f, "sample {index} is NaN or infinite"),
            Self::Overflow => f.write_str("result exceeds the f32 range"),
            Self::CountOverflow => f.write_str("more than u32::MAX samples"),
            Self::LengthMismatch { expected, got } => {
                write!(f, "length {got}, expected {expected}")
            }
            Self::InvalidBands => f.write_str("band edges must be >= 0, finite, increasing"),
            Self::InvalidSampleRate => f.write_str("sample rate must be finite and > 0"),
        }
    }
}

impl core::error::Error for FeatureError {}

/// Samples per partial sum in window sums: blocked summation keeps the rounding error
/// proportional to `BLOCK + n/BLOCK` instead of `n`, for one extra add per block.
const BLOCK: usize = 64;

/// The power of two `2^k` with `2^k > v` (for `v ≥ 0`), as `(2^k, 2^-k)`, with `k`
/// clamped to `-126..=126` so both are normal floats. Multiplying by either is exact
/// (barring underflow), so scaling by them changes no digit of a result.
fn pow2_above(v: f32) -> (f32, f32) {
    let biased = ((v.to_bits() >> 23) & 0xff) as i32;
    // Normal v lies in [2^(e-127), 2^(e-126)); subnormal v (biased 0) is below 2^-126.
    let k = if biased == 0 {
        -126
    } else {
        (biased - 126).clamp(-126, 126)
    };
    (exp2i(k), exp2i(-k))
}

/// `2^k` for `k` in `-126..=127` (built from its bit pattern; no `powf`).
fn exp2i(k: i32) -> f32 {
    f32::from_bits(((k.clamp(-126, 127) + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow2_above_bounds_and_is_exact() {
        for v in [
            1e-45f32,
            1e-39,
            1.2e-38,
            0.3,
            0.5,
            1.0,
            1.5,
            3.0,
            1e6,
            1e30,
            f32::MAX,
        ] {
            let (s, inv) = pow2_above(v);
            assert!(s.is_finite() && inv.is_finite() && s > 0.0 && inv > 0.0);
            assert_eq!(s * inv, 1.0);
            assert_eq!(s.to_bits() & 0x7f_ffff, 0, "{s} is a power of two");
            // v < 2^k, and at most 4× below it unless clamped at either end.
            assert!(v < s || v >= exp2i(126), "{v} < {s}");
            assert!(v * 4.0 >= s || s == exp2i(-126), "{v} within 4× of {s}");
        }
        assert_eq!(pow2_above(1.0), (2.0, 0.5));
        assert_eq!(pow2_above(0.0), (exp2i(-126), exp2i(126)));
    }

    #[test]
    fn display_is_informative() {
        struct Buf([u8; 64], usize);
        impl core::fmt::Write for Buf {
            fn write_str(&mut self, s: &str) -> core::fmt::Result {
                let end = self.1 + s.len();
                self.0
                    .get_mut(self.1..end)
                    .ok_or(core::fmt::Error)?
                    .copy_from_slice(s.as_bytes());
                self.1 = end;
                Ok(())
            }
        }
        let mut b = Buf([0; 64], 0);
        core::fmt::write(
            &mut b,
            format_args!("{}", FeatureError::NonFinite { index: 7 }),
        )
        .ok();
        assert_eq!(&b.0[..b.1], b"sample 7 is NaN or infinite");
    }
}
