//! Mel filterbank of the micro front end: triangular channels on the mel scale over
//! FFT bins, weights in Q12, accumulated in 64 bits and square-rooted with the front
//! end's integer square root.

use super::fft::Cpx;
use super::{AudioError, MAX_CHANNELS, MAX_FFT_SIZE};

/// Bits of the filterbank weights (`kFilterbankBits`).
pub(super) const FILTERBANK_BITS: u32 = 12;
/// Bins of the largest spectrum.
const MAX_BINS: usize = MAX_FFT_SIZE / 2 + 1;

/// `1127 · ln(1 + f/700)`, computed in `f64` and rounded to `f32` as the C code does.
fn freq_to_mel(freq: f32) -> f32 {
    (1127.0 * libm::log1p(f64::from(freq) / 700.0)) as f32
}

/// The channels: for each of `channels + 1` bands, its first FFT bin and width, and a
/// weight and "unweight" (`1 − weight`) per bin in Q12. Every bin belongs to at most
/// one band, so weights are stored by bin.
pub(super) struct Filterbank {
    channels: usize,
    start: [u16; MAX_CHANNELS + 1],
    width: [u16; MAX_CHANNELS + 1],
    weights: [i16; MAX_BINS],
    unweights: [i16; MAX_BINS],
    /// Per band: its weighted energy plus the previous band's unweighted energy.
    work: [u64; MAX_CHANNELS + 1],
}

impl Filterbank {
    pub(super) const fn new() -> Self {
        Self {
            channels: 0,
            start: [0; MAX_CHANNELS + 1],
            width: [0; MAX_CHANNELS + 1],
            weights: [0; MAX_BINS],
            unweights: [0; MAX_BINS],
            work: [0; MAX_CHANNELS + 1],
        }
    }

    /// Lays out `channels` mel channels between `lower` and `upper` Hz over a spectrum
    /// of `bins` bins (`fft size / 2 + 1`) at `sample_rate`.
    pub(super) fn configure(
        &mut self,
        sample_rate: u32,
        bins: usize,
        channels: usize,
        lower: f32,
        upper: f32,
    ) -> Result<(), AudioError> {
        if channels == 0 || channels > MAX_CHANNELS {
            return Err(AudioError::InvalidConfig("channels"));
        }
        if !(lower.is_finite() && upper.is_finite() && lower >= 0.0 && upper > lower) {
            return Err(AudioError::InvalidConfig("band limits"));
        }
        if !(3..=MAX_BINS).contains(&bins) {
            return Err(AudioError::InvalidConfig("fft size"));
        }
        self.channels = channels;
        self.weights = [0; MAX_BINS];
        self.unweights = [0; MAX_BINS];
        self.work = [0; MAX_CHANNELS + 1];
        let bands = channels + 1;

        // Band centres, evenly spaced in mel (all in f32, as in C).
        let mel_low = freq_to_mel(lower);
        let mel_spacing = (freq_to_mel(upper) - mel_low) / bands as f32;
        let mut centre = [0f32; MAX_CHANNELS + 1];
        for (i, c) in centre.iter_mut().take(bands).enumerate() {
            *c = mel_low + mel_spacing * (i + 1) as f32;
        }

        // DC is always excluded.
        let hz_per_bin = (0.5 * f64::from(sample_rate) / f64::from(bins as f32 - 1.0)) as f32;
        let first = 1.5 + f64::from(lower / hz_per_bin);
        if first.is_nan() || first >= bins as f64 {
            return Err(AudioError::InvalidConfig("band limits"));
        }
        let mut bin = first as usize;
        for band in 0..bands {
            let start = bin;
            while freq_to_mel(bin as f32 * hz_per_bin) <= centre[band] {
                bin += 1;
                if bin >= bins {
                    return Err(AudioError::InvalidConfig("upper band limit"));
                }
            }
            self.start[band] = start as u16;
            self.width[band] = (bin - start) as u16;
            let below = if band == 0 { mel_low } else { centre[band - 1] };
            for f in start..bin {
                let weight =
                    (centre[band] - freq_to_mel(f as f32 * hz_per_bin)) / (centre[band] - below);
                let scale = f64::from(1u32 << FILTERBANK_BITS);
                self.weights[f] =
                    libm::floor(f64::from(weight * (1u32 << FILTERBANK_BITS) as f32) + 0.5) as i16;
                self.unweights[f] = libm::floor((1.0 - f64::from(weight)) * scale + 0.5) as i16;
            }
        }
        Ok(())
    }

    /// Clears the accumulators.
    pub(super) fn reset(&mut self) {
        self.work = [0; MAX_CHANNELS + 1];
    }

    /// Accumulates the energy of `spectrum` into the bands, then writes
    /// `sqrt(band energy) >> shift` of each channel into `out` (`channels` values).
    pub(super) fn apply(&mut self, spectrum: &[Cpx], shift: u32, out: &mut [u32]) {
        let (mut weighted, mut unweighted) = (0u64, 0u64);
        for band in 0..=self.channels {
            let start = usize::from(self.start[band]);
            let end = start + usize::from(self.width[band]);
            let bins = spectrum[start..end]
                .iter()
                .zip(&self.weights[start..end])
                .zip(&self.unweights[start..end]);
            for ((c, &w), &u) in bins {
                // |X|² in 32 bits, wrapping and sign-extended exactly as the C code.
                let (re, im) = (i32::from(c.r), i32::from(c.i));
                let energy = (re * re).wrapping_add(im * im) as i64 as u64;
                weighted = weighted.wrapping_add((i64::from(w) as u64).wrapping_mul(energy));
                unweighted = unweighted.wrapping_add((i64::from(u) as u64).wrapping_mul(energy));
            }
            self.work[band] = weighted;
            weighted = unweighted;
            unweighted = 0;
        }
        for (o, &w) in out.iter_mut().zip(&self.work[1..=self.channels]) {
            *o = sqrt64(w).wrapping_shr(shift);
        }
    }
}

/// Bits needed to represent `n` (0 for 0): `MostSignificantBit32`.
pub(super) fn msb32(n: u32) -> u32 {
    32 - n.leading_zeros()
}

/// The front end's rounded integer square root (`Sqrt32` for `width` 32, `Sqrt64` for
/// 64): bit by bit from the highest even bit, then rounded up when the remainder
/// exceeds the root, unless the root is already the largest `width / 2`-bit value.
fn isqrt(mut num: u64, width: u32) -> u64 {
    if num == 0 {
        return 0;
    }
    let max_bit_number = (num.leading_zeros() - (64 - width)) | 1;
    let mut res = 0u64;
    let mut bit = 1u64 << (width - 1 - max_bit_number);
    for _ in 0..(width - 1 - max_bit_number) / 2 + 1 {
        if num >= res + bit {
            num -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if num > res && res != (1u64 << (width / 2)) - 1 {
        res += 1;
    }
    res
}

/// The square root of a filterbank sum: the 32-bit routine when the upper word is
/// clear (as in C, which is off by one near 2³² there).
fn sqrt64(num: u64) -> u32 {
    let width = if num >> 32 == 0 { 32 } else { 64 };
    isqrt(num, width) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_roots_round_to_nearest() {
        for n in [
            0u64,
            1,
            2,
            3,
            4,
            15,
            16,
            17,
            1 << 20,
            99_999,
            u32::MAX as u64,
        ] {
            let want = libm::round(libm::sqrt(n as f64)) as u64;
            let got = u64::from(sqrt64(n));
            // The rounding test is `num > res`, i.e. round half down at .5 exactly.
            assert!(
                got == want || got + 1 == want,
                "sqrt({n}) = {got}, want {want}"
            );
        }
        for n in [1u64 << 32, (1 << 40) + 12_345, u64::MAX >> 2, u64::MAX] {
            let want = libm::sqrt(n as f64);
            let got = sqrt64(n) as f64;
            assert!(
                (got - want).abs() <= 1.0 + want * 1e-12,
                "sqrt({n}) = {got}, want {want}"
            );
        }
    }

    /// micro_speech's layout: 40 channels from 125 to 7 500 Hz over 257 bins at
    /// 16 kHz. Channels are contiguous and within the spectrum, and each bin's weight
    /// and unweight add up to 1 in Q12 (± rounding).
    #[test]
    fn micro_speech_layout_is_contiguous() {
        let mut fb = Filterbank::new();
        fb.configure(16_000, 257, 40, 125.0, 7_500.0).ok();
        assert_eq!(fb.start[0], 5); // 1.5 + 125 / 31.25
        for band in 1..=40 {
            assert_eq!(fb.start[band], fb.start[band - 1] + fb.width[band - 1]);
        }
        let end = usize::from(fb.start[40] + fb.width[40]);
        assert!(end < 257, "{end}");
        for f in usize::from(fb.start[0])..end {
            let sum = i32::from(fb.weights[f]) + i32::from(fb.unweights[f]);
            assert!((4095..=4097).contains(&sum), "bin {f}: {sum}");
        }
    }

    #[test]
    fn bad_layouts_are_errors() {
        let mut fb = Filterbank::new();
        assert!(fb.configure(16_000, 257, 0, 125.0, 7_500.0).is_err());
        assert!(
            fb.configure(16_000, 257, MAX_CHANNELS + 1, 125.0, 7_500.0)
                .is_err()
        );
        assert!(fb.configure(16_000, 257, 40, 7_500.0, 125.0).is_err());
        assert!(fb.configure(16_000, 257, 40, f32::NAN, 7_500.0).is_err());
        // An upper limit above Nyquist runs off the spectrum.
        assert!(fb.configure(16_000, 257, 40, 125.0, 9_000.0).is_err());
    }
}
