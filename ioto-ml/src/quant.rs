//! Prepare-time quantization arithmetic, computed exactly as TFLM's `Prepare`
//! functions do (in `double`, from the model's `float` scales). Nothing here runs
//! during inference.
//!
//! Provenance: follows TFLite's `quantization_util.cc` and `kernel_util.cc`
//! (Copyright The TensorFlow Authors, Apache-2.0) step by step; recorded in
//! `ioto-ml/NOTICE`.

/// Splits `x` into a mantissa in `[0.5, 1)` and a power-of-two exponent (C `frexp`).
pub fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || x.is_nan() || x.is_infinite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    if exp_bits == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(x * f64::from_bits(0x4350_0000_0000_0000)); // 2^54
        return (m, e - 54);
    }
    let exponent = exp_bits - 1022;
    let mantissa = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (mantissa, exponent)
}

/// Declares C's `round` for one float type: nearest integer, halves away from zero,
/// truncating through an integer type wide enough below `limit` (at and above it
/// every value of the type is already integral, or NaN/inf, and is returned as is).
macro_rules! round_half_away {
    ($(#[$m:meta])* $name:ident($float:ty) via $int:ty, below $limit:expr) => {
        $(#[$m])*
        pub fn $name(x: $float) -> $float {
            if x.is_nan() || x.abs() >= $limit {
                return x;
            }
            let t = x as $int as $float;
            let frac = x - t;
            if frac >= 0.5 {
                t + 1.0
            } else if frac <= -0.5 {
                t - 1.0
            } else {
                t
            }
        }
    };
}

round_half_away! {
    /// C `round` for `f64`: nearest integer, halves away from zero (|x| < 2^62).
    round_f64(f64) via i64, below 4.0e18
}

round_half_away! {
    /// C `roundf` for `f32`: nearest integer, halves away from zero.
    round_f32(f32) via i32, below 8.0e6
}

/// C `floor` for `f64` within the `i64` range.
pub fn floor_f64(x: f64) -> f64 {
    if x.is_nan() || x.abs() >= 4.0e18 {
        return x;
    }
    let t = x as i64 as f64;
    if t > x { t - 1.0 } else { t }
}

/// TFLite `QuantizeMultiplier`: `(multiplier, shift)` with `m ≈ multiplier * 2^(shift-31)`.
pub fn quantize_multiplier(m: f64) -> (i32, i32) {
    if m == 0.0 {
        return (0, 0);
    }
    let (q, mut shift) = frexp(m);
    let mut q_fixed = round_f64(q * 2147483648.0) as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        shift = 0;
        q_fixed = 0;
    }
    (q_fixed as i32, shift)
}

/// TFLite `CalculateInputRadius`.
pub fn input_radius(input_integer_bits: i32, input_left_shift: i32) -> i32 {
    let total_signed_bits = 31;
    let max_input_rescaled = ((1i64 << input_integer_bits) - 1) as f64
        * (1i64 << (total_signed_bits - input_integer_bits)) as f64
        / (1i64 << input_left_shift.clamp(0, 62)) as f64;
    floor_f64(max_input_rescaled) as i32
}

/// TFLite fused activation codes (`ActivationFunctionType`).
pub mod activation {
    /// No activation.
    pub const NONE: i8 = 0;
    /// `RELU`.
    pub const RELU: i8 = 1;
    /// `RELU_N1_TO_1`.
    pub const RELU_N1_TO_1: i8 = 2;
    /// `RELU6`.
    pub const RELU6: i8 = 3;
}

/// TFLite `CalculateActivationRangeQuantized` for int8 outputs; `None` for fused
/// activations TFLM does not support on int8 (TANH, SIGN_BIT).
pub fn activation_range_i8(act: i8, scale: f32, zero_point: i32) -> Option<(i32, i32)> {
    let quantize = |f: f32| zero_point.saturating_add(round_f32(f / scale) as i32);
    let (qmin, qmax) = (-128, 127);
    match act {
        activation::NONE => Some((qmin, qmax)),
        activation::RELU => Some((qmin.max(quantize(0.0)), qmax)),
        activation::RELU6 => Some((qmin.max(quantize(0.0)), qmax.min(quantize(6.0)))),
        activation::RELU_N1_TO_1 => Some((qmin.max(quantize(-1.0)), qmax.min(quantize(1.0)))),
        _ => None,
    }
}

/// TFLite `CalculateActivationRange` for float outputs.
pub fn activation_range_f32(act: i8) -> Option<(f32, f32)> {
    match act {
        activation::NONE => Some((f32::MIN, f32::MAX)),
        activation::RELU => Some((0.0, f32::MAX)),
        activation::RELU6 => Some((0.0, 6.0)),
        activation::RELU_N1_TO_1 => Some((-1.0, 1.0)),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn frexp_matches_c() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(3.0), (0.75, 2));
    }

    #[test]
    fn quantize_multiplier_matches_tflite() {
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
        assert_eq!(quantize_multiplier(0.0), (0, 0));
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_f32(2.5), 3.0);
        assert_eq!(round_f32(-2.5), -3.0);
        assert_eq!(round_f64(-0.4), 0.0);
        assert_eq!(floor_f64(-1.5), -2.0);
    }
}
