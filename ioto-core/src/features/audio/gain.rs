//! The per-channel stages after the filterbank: noise reduction (spectral subtraction
//! of a running noise estimate), PCAN gain control (per-channel energy normalisation
//! by that estimate) and the integer natural-log scale.

use super::filterbank::msb32;
use super::{AudioError, MAX_CHANNELS};

/// Q bits of the noise-reduction coefficients (`kNoiseReductionBits`).
const NOISE_REDUCTION_BITS: u32 = 14;
/// Q bits of the PCAN signal-to-noise ratio (`kPcanSnrBits`).
const PCAN_SNR_BITS: u32 = 12;
/// Q bits of PCAN's output (`kPcanOutputBits`).
const PCAN_OUTPUT_BITS: u32 = 6;
/// Intervals of the gain lookup table (`kWideDynamicFunctionBits`).
const WIDE_DYNAMIC_BITS: usize = 32;
/// Entries of the gain lookup table (`kWideDynamicFunctionLUTSize`).
const GAIN_LUT_SIZE: usize = 4 * WIDE_DYNAMIC_BITS - 3;

/// `f32 × 2^14`, truncated to an integer as C's float-to-unsigned conversion does.
fn q14(v: f32) -> u32 {
    (v * (1u32 << NOISE_REDUCTION_BITS) as f32) as u32
}

/// Spectral subtraction with a per-channel noise estimate, smoothed differently on
/// even and odd channels.
pub(super) struct NoiseReduction {
    smoothing_bits: u32,
    even_smoothing: u32,
    odd_smoothing: u32,
    min_signal_remaining: u32,
    channels: usize,
    /// The running noise estimate per channel (read by PCAN).
    pub(super) estimate: [u32; MAX_CHANNELS],
}

impl NoiseReduction {
    pub(super) const fn new() -> Self {
        Self {
            smoothing_bits: 0,
            even_smoothing: 0,
            odd_smoothing: 0,
            min_signal_remaining: 0,
            channels: 0,
            estimate: [0; MAX_CHANNELS],
        }
    }

    pub(super) fn configure(
        &mut self,
        smoothing_bits: u32,
        even: f32,
        odd: f32,
        min_remaining: f32,
        channels: usize,
    ) -> Result<(), AudioError> {
        let unit = 0.0..=1.0;
        if !(unit.contains(&even) && unit.contains(&odd) && unit.contains(&min_remaining)) {
            return Err(AudioError::InvalidConfig("noise reduction smoothing"));
        }
        if smoothing_bits > 31 {
            return Err(AudioError::InvalidConfig("smoothing bits"));
        }
        self.smoothing_bits = smoothing_bits;
        self.even_smoothing = q14(even);
        self.odd_smoothing = q14(odd);
        self.min_signal_remaining = q14(min_remaining);
        self.channels = channels.min(MAX_CHANNELS);
        self.reset();
        Ok(())
    }

    pub(super) fn reset(&mut self) {
        self.estimate = [0; MAX_CHANNELS];
    }

    pub(super) fn apply(&mut self, signal: &mut [u32]) {
        for (i, (s, est)) in signal
            .iter_mut()
            .zip(self.estimate.iter_mut())
            .take(self.channels)
            .enumerate()
        {
            let smoothing = if i % 2 == 0 {
                self.even_smoothing
            } else {
                self.odd_smoothing
            };
            let one_minus = (1u32 << NOISE_REDUCTION_BITS).wrapping_sub(smoothing);
            let scaled_up = s.wrapping_shl(self.smoothing_bits);
            let mut estimate = ((u64::from(scaled_up) * u64::from(smoothing)
                + u64::from(*est) * u64::from(one_minus))
                >> NOISE_REDUCTION_BITS) as u32;
            *est = estimate;
            estimate = estimate.min(scaled_up);
            let floor = ((u64::from(*s) * u64::from(self.min_signal_remaining))
                >> NOISE_REDUCTION_BITS) as u32;
            let subtracted = (scaled_up - estimate) >> self.smoothing_bits;
            *s = subtracted.max(floor);
        }
    }
}

/// Per-channel energy normalisation: each channel is divided by a power of its noise
/// estimate (a piecewise-quadratic lookup table of `2^gain_bits · (x + offset)^−strength`)
/// and compressed.
pub(super) struct Pcan {
    gain_lut: [i16; GAIN_LUT_SIZE],
    snr_shift: u32,
}

impl Pcan {
    pub(super) const fn new() -> Self {
        Self {
            gain_lut: [0; GAIN_LUT_SIZE],
            snr_shift: 0,
        }
    }

    /// `input_correction_bits` is `log2(fft size) − 1 − FILTERBANK_BITS / 2`.
    pub(super) fn configure(
        &mut self,
        strength: f32,
        offset: f32,
        gain_bits: u32,
        smoothing_bits: u32,
        input_correction_bits: i32,
    ) -> Result<(), AudioError> {
        if !(strength.is_finite() && offset.is_finite() && offset > 0.0) {
            return Err(AudioError::InvalidConfig("pcan strength/offset"));
        }
        let snr_shift = gain_bits as i32 - input_correction_bits - PCAN_SNR_BITS as i32;
        if gain_bits >= 32 || !(0..64).contains(&snr_shift) {
            return Err(AudioError::InvalidConfig("pcan gain bits"));
        }
        let input_bits = smoothing_bits as i32 - input_correction_bits;
        if !(0..32).contains(&input_bits) {
            return Err(AudioError::InvalidConfig("smoothing bits"));
        }
        let (snr_shift, input_bits) = (snr_shift as u32, input_bits as u32);
        self.snr_shift = snr_shift;
        let gain = |x: u32| -> i16 {
            let x = x as f32 / (1u32 << input_bits) as f32;
            let g = (1u32 << gain_bits) as f32 * libm::powf(x + offset, -strength);
            if g > f32::from(i16::MAX) {
                i16::MAX
            } else {
                (g + 0.5) as i16
            }
        };
        let lut = &mut self.gain_lut;
        lut[0] = gain(0);
        lut[1] = gain(1);
        for interval in 2..=WIDE_DYNAMIC_BITS {
            let x0 = 1u32 << (interval - 1);
            let x1 = x0 + (x0 >> 1);
            let x2 = if interval == WIDE_DYNAMIC_BITS {
                x0 + (x0 - 1)
            } else {
                2 * x0
            };
            let (y0, y1, y2) = (gain(x0), gain(x1), gain(x2));
            let diff1 = i32::from(y1) - i32::from(y0);
            let diff2 = i32::from(y2) - i32::from(y0);
            let a1 = 4 * diff1 - diff2;
            let a2 = diff2 - a1;
            let at = 4 * interval - 6;
            lut[at] = y0;
            lut[at + 1] = a1 as i16;
            lut[at + 2] = a2 as i16;
        }
        Ok(())
    }

    /// The gain for noise estimate `x` (`WideDynamicFunction`).
    fn gain(&self, x: u32) -> i16 {
        if x <= 2 {
            return self.gain_lut[x as usize];
        }
        let interval = msb32(x);
        let lut = &self.gain_lut[(4 * interval - 6) as usize..];
        let frac = (if interval < 11 {
            x << (11 - interval)
        } else {
            x >> (interval - 11)
        } & 0x3FF) as i32;
        let mut result = (i32::from(lut[2]) * frac) >> 5;
        result = result.wrapping_add(((i32::from(lut[1]) as u32) << 5) as i32);
        result = result.wrapping_mul(frac);
        result = result.wrapping_add(1 << 14) >> 15;
        result.wrapping_add(i32::from(lut[0])) as i16
    }

    pub(super) fn apply(&self, signal: &mut [u32], noise_estimate: &[u32]) {
        for (s, &noise) in signal.iter_mut().zip(noise_estimate) {
            // The gain is a signed 16-bit value converted to unsigned, as in C.
            let gain = i32::from(self.gain(noise)) as u32;
            let snr = ((u64::from(*s) * u64::from(gain)) >> self.snr_shift) as u32;
            *s = shrink(snr);
        }
    }
}

/// PCAN's compression of the normalised signal (`PcanShrink`): quadratic below
/// 2.0 in Q12, linear above.
fn shrink(x: u32) -> u32 {
    if x < (2 << PCAN_SNR_BITS) {
        (x * x) >> (2 + 2 * PCAN_SNR_BITS - PCAN_OUTPUT_BITS)
    } else {
        (x >> (PCAN_SNR_BITS - PCAN_OUTPUT_BITS)) - (1 << PCAN_OUTPUT_BITS)
    }
}

/// Segments of the log2 correction table.
const LOG_SEGMENTS_LOG2: u32 = 7;
/// Q bits of the log computation.
const LOG_SCALE_LOG2: u32 = 16;
/// `ln(2)` in Q16.
const LOG_COEFF: u64 = 45_426;
/// Correction of the linear log2 interpolation per segment, in Q16 (`kLogLut`).
const LOG_LUT: [u16; 130] = [
    0, 224, 442, 654, 861, 1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646, 2797, 2944,
    3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633, 4714,
    4791, 4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477, 5507, 5533,
    5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633, 5626, 5615, 5602, 5586, 5568,
    5547, 5524, 5498, 5470, 5439, 5406, 5370, 5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944,
    4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341, 4264, 4184, 4103, 4020, 3935, 3848, 3759,
    3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875, 2768, 2659, 2549, 2437, 2323, 2207, 2090,
    1971, 1851, 1729, 1605, 1480, 1353, 1224, 1094, 963, 830, 695, 559, 421, 282, 142, 0, 0,
];

/// The fractional part of `log2(x)` in Q16, `log2x` being its integer part.
fn log2_fraction(x: u32, log2x: u32) -> u32 {
    let mut frac = (i64::from(x) - (1i64 << log2x)) as i32;
    if log2x < LOG_SCALE_LOG2 {
        frac <<= LOG_SCALE_LOG2 - log2x;
    } else {
        frac >>= log2x - LOG_SCALE_LOG2;
    }
    let base_seg = (frac >> (LOG_SCALE_LOG2 - LOG_SEGMENTS_LOG2)) as u32;
    let seg_unit = (1u32 << LOG_SCALE_LOG2) >> LOG_SEGMENTS_LOG2;
    let c0 = i32::from(LOG_LUT[base_seg as usize]);
    let c1 = i32::from(LOG_LUT[base_seg as usize + 1]);
    let seg_base = (seg_unit * base_seg) as i32;
    let rel_pos = ((c1 - c0) * (frac - seg_base)) >> LOG_SCALE_LOG2;
    (frac + c0 + rel_pos) as u32
}

/// `ln(x) · 2^scale_shift`, rounded (for `x > 1`).
fn log_scaled(x: u32, scale_shift: u32) -> u32 {
    let integer = msb32(x) - 1;
    let fraction = log2_fraction(x, integer);
    let log2 = (integer << LOG_SCALE_LOG2).wrapping_add(fraction);
    let round = 1u32 << (LOG_SCALE_LOG2 - 1);
    let loge = ((LOG_COEFF * u64::from(log2) + u64::from(round)) >> LOG_SCALE_LOG2) as u32;
    (loge.wrapping_shl(scale_shift).wrapping_add(round)) >> LOG_SCALE_LOG2
}

/// The last stage: optionally `ln` (after shifting by `correction_bits`, which undoes
/// the filterbank's fixed-point scale), then saturation to 16 bits.
pub(super) fn log_scale(
    signal: &[u32],
    log_shift: Option<u32>,
    correction_bits: i32,
    out: &mut [u16],
) {
    for (o, &s) in out.iter_mut().zip(signal) {
        let mut value = s;
        if let Some(scale_shift) = log_shift {
            value = if correction_bits < 0 {
                value.wrapping_shr(correction_bits.unsigned_abs())
            } else {
                value.wrapping_shl(correction_bits as u32)
            };
            value = if value > 1 {
                log_scaled(value, scale_shift)
            } else {
                0
            };
        }
        *o = value.min(u32::from(u16::MAX)) as u16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integer log is `ln(x) · 2^shift` within the table's interpolation error.
    #[test]
    fn integer_log_tracks_ln() {
        for x in [
            2u32,
            3,
            10,
            100,
            1_000,
            65_535,
            1 << 20,
            123_456_789,
            u32::MAX,
        ] {
            let want = libm::log(f64::from(x)) * 64.0;
            let got = f64::from(log_scaled(x, 6));
            assert!((got - want).abs() <= 1.0, "ln({x})·64: {got} vs {want}");
        }
    }

    #[test]
    fn shrink_is_continuous_at_the_knee() {
        let knee = 2 << PCAN_SNR_BITS;
        assert_eq!(shrink(knee - 1) + 1, shrink(knee));
        assert_eq!(shrink(0), 0);
    }

    /// The lookup table reproduces `2^21 (x/2^7 + 80)^−0.95` (micro_speech's settings):
    /// to a count at every interval start (its knots), within 1 % between them (the
    /// quadratic interpolation), and it never increases.
    #[test]
    fn gain_table_follows_the_power_law() {
        let mut pcan = Pcan::new();
        pcan.configure(0.95, 80.0, 21, 10, 3).ok();
        assert_eq!(pcan.snr_shift, 6);
        let mut last = i16::MAX;
        for x in (0..28).map(|b| 1u32 << b).chain([3, 5, 777, 123_456]) {
            let want = 2f64.powi(21) * libm::pow(f64::from(x) / 128.0 + 80.0, -0.95);
            let got = f64::from(pcan.gain(x));
            let tolerance = if x.is_power_of_two() {
                1.0
            } else {
                want / 100.0
            };
            assert!(
                (got - want).abs() <= tolerance,
                "gain({x}) = {got}, want {want}"
            );
            if x.is_power_of_two() {
                assert!(got <= f64::from(last));
                last = got as i16;
            }
        }
        assert!(pcan.configure(0.95, 80.0, 12, 10, 3).is_err());
        assert!(pcan.configure(0.95, -1.0, 21, 10, 3).is_err());
    }

    #[test]
    fn noise_reduction_keeps_a_floor() {
        let mut nr = NoiseReduction::new();
        nr.configure(10, 0.025, 0.06, 0.05, 2).ok();
        // A steady signal: the estimate converges to it and the output to the floor.
        let mut out = [0u32; 2];
        for _ in 0..2_000 {
            out = [1_000, 1_000];
            nr.apply(&mut out);
        }
        // 5 % of the signal remains: 1 000 · ⌊0.05 · 2^14⌋ / 2^14 = 49.98, truncated.
        assert_eq!(out, [49, 49]);
        assert!(nr.configure(10, 1.5, 0.06, 0.05, 2).is_err());
    }
}
