//! FFT band energies with `microfft`'s real FFT.

use microfft::Complex32;

use super::levels::min_max;
use super::{BLOCK, FeatureError, pow2_above};
use sealed::Sealed as _;

/// The taper applied to a window before its spectrum is taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WindowFunction {
    /// No taper (`w = 1`): exact for tones at bin centres, leaks elsewhere.
    Rectangular,
    /// Periodic Hann `w[n] = 0.5 − 0.5·cos(2πn/N)`: a tone spreads over ±1–2 bins but
    /// barely leaks further. Applied in the frequency domain as the exact 3-tap
    /// convolution `0.5·X[k] − 0.25·(X[k−1] + X[k+1])`: no `cos` per sample, no table.
    #[default]
    Hann,
}

/// A scratch buffer the real FFT runs in: `[f32; N]` for `N` = 16, 32, 64, 128, 256 or
/// 512 (`microfft::real::rfft_N`). Other sizes do not implement it, so they are rejected
/// at compile time. Sealed.
pub trait FftBuffer: sealed::Sealed {}

mod sealed {
    use microfft::Complex32;

    pub trait Sealed {
        /// In-place real FFT: bins `0..N/2`, the Nyquist bin packed into `[0].im`.
        fn rfft_in_place(&mut self) -> &[Complex32];
    }
}

macro_rules! fft_buffers {
    ($($n:literal => $f:ident),*) => {$(
        impl sealed::Sealed for [f32; $n] {
            fn rfft_in_place(&mut self) -> &[Complex32] {
                microfft::real::$f(self)
            }
        }
        impl FftBuffer for [f32; $n] {}
    )*};
}

// microfft compiles `rfft_N` for N up to twice its `size-*` feature but indexes past its
// sine table (a panic) above that feature: keep this list within `size-512` (Cargo.toml),
// and raise the feature before adding 1024.
fft_buffers!(16 => rfft_16, 32 => rfft_32, 64 => rfft_64, 128 => rfft_128, 256 => rfft_256, 512 => rfft_512);

/// Frequency bands (edges in Hz), a sample rate and a window function: the plan for
/// [`band_energies`](Self::band_energies). Validated once by [`new`](Self::new).
///
/// `edges_hz = [e0, e1, …, eB]` defines `B` contiguous bands `[e0, e1), [e1, e2), …,
/// [e(B−1), eB]` (half-open, the last one closed, like `numpy.histogram`). FFT bin `k`
/// has frequency `k·fs/N` (exact for integer `fs` below 2^16) and falls in the band
/// containing it; bins outside `[e0, eB]` are not counted in any band. Only bins up to
/// `fs/2` exist, so bands above Nyquist stay 0.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BandPlan<'a> {
    sample_rate_hz: f32,
    edges_hz: &'a [f32],
    window: WindowFunction,
    remove_mean: bool,
}

impl<'a> BandPlan<'a> {
    /// A plan with a Hann window that keeps the mean (DC bin).
    ///
    /// Errors: [`FeatureError::InvalidSampleRate`] unless `sample_rate_hz` is finite and
    /// positive; [`FeatureError::InvalidBands`] unless there are at least 2 edges, all
    /// finite, `≥ 0` and strictly increasing.
    pub fn new(sample_rate_hz: f32, edges_hz: &'a [f32]) -> Result<Self, FeatureError> {
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
            return Err(FeatureError::InvalidSampleRate);
        }
        let valid = edges_hz.len() >= 2
            && edges_hz.iter().all(|e| e.is_finite() && *e >= 0.0)
            && edges_hz.windows(2).all(|w| matches!(w, [a, b] if a < b));
        if !valid {
            return Err(FeatureError::InvalidBands);
        }
        Ok(Self {
            sample_rate_hz,
            edges_hz,
            window: WindowFunction::Hann,
            remove_mean: false,
        })
    }

    /// The same plan with another window function.
    #[must_use]
    pub const fn with_window(mut self, window: WindowFunction) -> Self {
        self.window = window;
        self
    }

    /// The same plan, removing (`true`) or keeping the window's mean before the FFT.
    ///
    /// Removal subtracts the mean from the samples before the FFT (and the DC bin is
    /// then 0), so a sensor offset (gravity, bias, 101 325 Pa) neither leaks into the
    /// lowest band through the Hann window's main lobe nor drowns the other bins in its
    /// `f32` rounding: the FFT's error is relative to its largest bin, so without removal
    /// a 1e6 offset leaves rounding noise of order `(ε·1e6)²` ≈ 1e-3–1e-2 (unit²) in
    /// every other band.
    #[must_use]
    pub const fn with_mean_removed(mut self, remove: bool) -> Self {
        self.remove_mean = remove;
        self
    }

    /// Number of bands (`edges.len() − 1`).
    pub const fn bands(&self) -> usize {
        self.edges_hz.len().saturating_sub(1)
    }

    /// The sample rate in Hz.
    pub const fn sample_rate_hz(&self) -> f32 {
        self.sample_rate_hz
    }

    /// The band edges in Hz.
    pub const fn edges_hz(&self) -> &'a [f32] {
        self.edges_hz
    }

    /// The window function.
    pub const fn window(&self) -> WindowFunction {
        self.window
    }

    /// Energy of each band of the window `x` (`x.len() == N`) into `out` (`out.len() ==`
    /// [`bands`](Self::bands)); returns the energy of the whole one-sided spectrum.
    /// `scratch` receives a copy of `x` and is overwritten by the FFT; `x` is untouched.
    ///
    /// **Scaling (Parseval).** With `X[k]` the DFT of the windowed signal `w·x`,
    /// bin `k` carries `E[k] = c_k·|X[k]|² / (N·Σw²)`, `c_k = 1` for DC and Nyquist and 2
    /// for the bins in between (their negative-frequency twins). By Parseval the sum of
    /// all bins `0..=N/2` (the return value) is `Σ(w·x)² / Σw²`, a window-weighted
    /// mean square: exactly `Σx²/n` with the rectangular window (the variance with the
    /// mean removed); with the Hann window (`Σw² = 3N/8`) an estimate of the mean
    /// square of a stationary signal, exactly `A²/2` for a tone of amplitude `A` at a
    /// bin centre (spread over bins `k−1..=k+1`). A band's energy is in (signal unit)²,
    /// like a variance; `√energy` is the band's RMS.
    ///
    /// `microfft` packs the real Nyquist bin into the imaginary part of bin 0; it is
    /// unpacked here, so the Nyquist bin counts (once) in the band containing `fs/2`.
    /// The samples are scaled by an exact power of two before the FFT, so `|X|²` cannot
    /// overflow or underflow for any finite input.
    ///
    /// Errors: [`FeatureError::LengthMismatch`] (window or output length),
    /// [`FeatureError::NonFinite`] (first bad index), [`FeatureError::Overflow`] if an
    /// energy exceeds `f32::MAX` (samples beyond ~1e19) or the range of the samples does.
    /// On error `out` is all zeros or untouched.
    pub fn band_energies<const N: usize>(
        &self,
        x: &[f32],
        scratch: &mut [f32; N],
        out: &mut [f32],
    ) -> Result<f32, FeatureError>
    where
        [f32; N]: FftBuffer,
    {
        if x.len() != N {
            return Err(FeatureError::LengthMismatch {
                expected: N,
                got: x.len(),
            });
        }
        if out.len() != self.bands() {
            return Err(FeatureError::LengthMismatch {
                expected: self.bands(),
                got: out.len(),
            });
        }
        let (min, max) = min_max(x)?;
        out.fill(0.0);
        // The mean is subtracted in the time domain, before the FFT: zeroing only the DC
        // bin would leave the offset's f32 rounding spread over every other bin.
        let (offset, extent) = if self.remove_mean {
            let x0 = x.first().copied().unwrap_or(0.0);
            let sum: f32 = x
                .chunks(BLOCK)
                .map(|c| c.iter().map(|&v| v - x0).sum::<f32>())
                .sum();
            ((x0 + sum / N as f32).clamp(min, max), max - min) // |x − mean| ≤ range
        } else {
            (0.0, libm::fabsf(min).max(libm::fabsf(max)))
        };
        if !(extent.is_finite() && offset.is_finite()) {
            return Err(FeatureError::Overflow);
        }
        if extent == 0.0 {
            return Ok(0.0);
        }
        let (scale, inv) = pow2_above(extent);
        for (s, &v) in scratch.iter_mut().zip(x) {
            *s = (v - offset) * inv;
        }
        let half = N / 2;
        let spectrum = Spectrum {
            bins: scratch.rfft_in_place(),
            half,
            remove_mean: self.remove_mean,
        };
        let inv_n = 1.0 / N as f32; // exact: N is a power of two
        let norm = match self.window {
            WindowFunction::Rectangular => inv_n * inv_n,
            WindowFunction::Hann => inv_n * inv_n * (8.0 / 3.0),
        };
        let mut total = 0.0f32;
        for k in 0..=half {
            let c = match self.window {
                WindowFunction::Rectangular => spectrum.bin(k as isize),
                WindowFunction::Hann => {
                    let (re, im) = spectrum.bin(k as isize);
                    let (lr, li) = spectrum.bin(k as isize - 1);
                    let (rr, ri) = spectrum.bin(k as isize + 1);
                    (0.5 * re - 0.25 * (lr + rr), 0.5 * im - 0.25 * (li + ri))
                }
            };
            let weight = if k == 0 || k == half { 1.0 } else { 2.0 };
            let e = weight * (c.0 * c.0 + c.1 * c.1) * norm;
            total += e;
            let f = k as f32 * self.sample_rate_hz / N as f32;
            if let Some(slot) = self.band_of(f).and_then(|b| out.get_mut(b)) {
                *slot += e;
            }
        }
        // Undo the sample scaling: energies scale with its square.
        for e in out.iter_mut() {
            *e = *e * scale * scale;
        }
        let total = total * scale * scale;
        if !(total.is_finite() && out.iter().all(|e| e.is_finite())) {
            out.fill(0.0);
            return Err(FeatureError::Overflow);
        }
        Ok(total)
    }

    /// Index of the band containing frequency `f`, if any.
    fn band_of(&self, f: f32) -> Option<usize> {
        let bands = self.bands();
        let below = self.edges_hz.partition_point(|&e| e <= f); // edges ≤ f
        match below {
            0 => None,
            i if i <= bands => Some(i - 1),
            _ if self.edges_hz.last() == Some(&f) => bands.checked_sub(1),
            _ => None,
        }
    }
}

/// `microfft`'s packed half spectrum, read as the full Hermitian spectrum.
struct Spectrum<'s> {
    bins: &'s [Complex32],
    half: usize,
    remove_mean: bool,
}

impl Spectrum<'_> {
    /// `X[k]` as `(re, im)` for `k` in `−1..=half+1`, using `X[−k] = conj X[k]`,
    /// `X[N/2 + j] = conj X[N/2 − j]`, DC in `bins[0].re` and Nyquist in `bins[0].im`.
    fn bin(&self, k: isize) -> (f32, f32) {
        let half = self.half as isize;
        let (idx, conj) = if k < 0 {
            (-k, true)
        } else if k > half {
            (2 * half - k, true)
        } else {
            (k, false)
        };
        let (re, im) = if idx == 0 {
            (
                if self.remove_mean {
                    0.0
                } else {
                    self.bins.first().map_or(0.0, |c| c.re)
                },
                0.0,
            )
        } else if idx == half {
            (self.bins.first().map_or(0.0, |c| c.im), 0.0)
        } else {
            self.bins
                .get(idx as usize)
                .map_or((0.0, 0.0), |c| (c.re, c.im))
        };
        if conj { (re, -im) } else { (re, im) }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn plan_validation() {
        assert_eq!(
            BandPlan::new(0.0, &[0.0, 1.0]),
            Err(FeatureError::InvalidSampleRate)
        );
        assert_eq!(
            BandPlan::new(f32::NAN, &[0.0, 1.0]),
            Err(FeatureError::InvalidSampleRate)
        );
        assert_eq!(
            BandPlan::new(-5.0, &[0.0, 1.0]),
            Err(FeatureError::InvalidSampleRate)
        );
        for bad in [
            &[][..],
            &[1.0],
            &[0.0, 0.0],
            &[2.0, 1.0],
            &[-1.0, 1.0],
            &[0.0, f32::INFINITY],
        ] {
            assert_eq!(
                BandPlan::new(100.0, bad),
                Err(FeatureError::InvalidBands),
                "{bad:?}"
            );
        }
        let p = BandPlan::new(100.0, &[0.0, 10.0, 50.0]).unwrap();
        assert_eq!(
            (p.bands(), p.window(), p.sample_rate_hz()),
            (2, WindowFunction::Hann, 100.0)
        );
    }

    #[test]
    fn band_lookup_is_half_open_with_closed_last_band() {
        let p = BandPlan::new(100.0, &[5.0, 10.0, 20.0]).unwrap();
        let got = [0.0, 4.9, 5.0, 9.99, 10.0, 19.9, 20.0, 20.1].map(|f| p.band_of(f));
        assert_eq!(
            got,
            [
                None,
                None,
                Some(0),
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                None
            ]
        );
    }

    #[test]
    fn lengths_are_checked() {
        let p = BandPlan::new(100.0, &[0.0, 10.0, 50.0]).unwrap();
        let mut s = [0.0f32; 16];
        let mut out = [0.0f32; 2];
        let e = p.band_energies(&[0.0; 15], &mut s, &mut out);
        assert_eq!(
            e,
            Err(FeatureError::LengthMismatch {
                expected: 16,
                got: 15
            })
        );
        let e = p.band_energies(&[0.0; 16], &mut s, &mut [0.0; 3]);
        assert_eq!(
            e,
            Err(FeatureError::LengthMismatch {
                expected: 2,
                got: 3
            })
        );
        let mut x = [0.0f32; 16];
        x[9] = f32::NAN;
        assert_eq!(
            p.band_energies(&x, &mut s, &mut out),
            Err(FeatureError::NonFinite { index: 9 })
        );
        out = [5.0; 2];
        assert_eq!(p.band_energies(&[0.0; 16], &mut s, &mut out), Ok(0.0));
        assert_eq!(out, [0.0; 2]);
    }
}
