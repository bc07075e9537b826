//! Prepare-time quantization arithmetic, with exactly the results of TFLM's
//! `Prepare` functions. TFLM works in `double` from the model's `float` scales; the
//! multipliers here are computed in integers instead (no soft-float `double` code on
//! the boards), reproducing each `double` step bit for bit: the product of two
//! floats is exact in a `double`, a quotient is rounded to nearest even at 53 bits,
//! then `frexp` and `round` (`quantize_multiplier_matches_the_double_code` checks
//! them against the `double` code). Nothing here runs during inference.
//!
//! Provenance: follows TFLite's `quantization_util.cc` and `kernel_util.cc`
//! (Copyright The TensorFlow Authors, Apache-2.0) step by step; recorded in
//! `ioto-ml/NOTICE`.

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
    /// C `roundf` for `f32`: nearest integer, halves away from zero.
    round_f32(f32) via i32, below 8.0e6
}

/// A finite non-zero `f32` as `(mantissa, exponent)`: `|x| = mantissa * 2^exponent`
/// with the mantissa in `[2^23, 2^24)` (subnormals normalized).
fn split(x: f32) -> (u32, i32) {
    let b = x.to_bits();
    let (m, e) = (b & 0x7f_ffff, ((b >> 23) & 0xff) as i32);
    if e != 0 {
        return (m | 0x80_0000, e - 150);
    }
    let z = m.leading_zeros() - 8;
    (m << z, -149 - z as i32)
}

/// The `double` `x = a * b * 2^k / c` as TFLM's `Prepare` code forms it from three
/// floats (the product is exact, the quotient rounded to nearest even): `Ok((s, e))`
/// with `x = s * 2^e` and `|s|` in `[2^52, 2^53)` when `x` is finite and not zero,
/// else `Err` of a float with the same class and sign (zero, infinity or NaN).
#[inline(never)]
fn to_double(a: f32, b: f32, k: i32, c: f32) -> core::result::Result<(i64, i32), f32> {
    // Zeros, infinities and NaNs combine in a `double` as in a `float`; every finite
    // non-zero operand stands for itself as a 1 with its sign (a `double` of these
    // operands never overflows or underflows).
    let unit = |x: f32| {
        if x.is_finite() && x != 0.0 {
            f32::from_bits((x.to_bits() & 0x8000_0000) | 0x3f80_0000)
        } else {
            x
        }
    };
    let class = unit(a) * unit(b) / unit(c);
    if !class.is_finite() || class == 0.0 {
        return Err(class);
    }
    let ((ma, ea), (mb, eb), (mc, ec)) = (split(a), split(b), split(c));
    // `n / d` in (2^22, 2^25): its integer part, then 32 more bits of the fraction,
    // make a quotient of 55 to 57 bits (`r` the remainder).
    let (n, d) = (u64::from(ma) * u64::from(mb), u64::from(mc));
    let r = (n % d) << 32;
    let (mut q, mut sticky) = (((n / d) << 32) | (r / d), r % d != 0);
    let mut e = ea + eb + k - ec - 32;
    // Keep 54 bits (53 and the rounding bit), then round to nearest even at 53.
    while q >> 54 != 0 {
        sticky |= q & 1 != 0;
        q >>= 1;
        e += 1;
    }
    e += 1;
    let mut m = q >> 1;
    if q & 1 != 0 && (sticky || m & 1 != 0) {
        m += 1;
        if m == 1 << 53 {
            m >>= 1;
            e += 1;
        }
    }
    Ok((if class < 0.0 { -(m as i64) } else { m as i64 }, e))
}

/// `frexp` of the `double` `x = a * b * 2^k / c` and `round(mantissa * 2^31)`
/// (halves away from zero) as an `i64`: `(0, 0)` when `x` is zero or NaN (a NaN
/// converts to 0), `i64::MAX` / `i64::MIN` for `+inf` / `-inf` (the conversion
/// saturates), as the `double` code gives.
pub fn frexp_round(a: f32, b: f32, k: i32, c: f32) -> (i64, i32) {
    match to_double(a, b, k, c) {
        // frexp's mantissa is s / 2^53; times 2^31 it is s / 2^22, rounded here.
        Ok((s, e)) => {
            let fixed = ((s.unsigned_abs() + (1 << 21)) >> 22) as i64;
            (if s < 0 { -fixed } else { fixed }, e + 53)
        }
        Err(x) if x == f32::INFINITY => (i64::MAX, 0),
        Err(x) if x == f32::NEG_INFINITY => (i64::MIN, 0),
        Err(_) => (0, 0),
    }
}

/// TFLite `QuantizeMultiplier` of the `double` `a * b * 2^k / c` (a product of two
/// scales over a third, as TFLM's `Prepare` functions form it): `(multiplier, shift)`
/// with `x ≈ multiplier * 2^(shift - 31)`.
#[inline(never)]
pub fn quantize_multiplier(a: f32, b: f32, k: i32, c: f32) -> (i32, i32) {
    let (mut q_fixed, mut shift) = frexp_round(a, b, k, c);
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        return (0, 0);
    }
    (q_fixed as i32, shift)
}

/// Whether the `double` `a * b * 2^k` (exact) is NaN or at least `2^31 - 1`: the
/// `min(x, 2^31 - 1)` of TFLM's softmax keeps `2^31 - 1` then.
pub fn product_reaches_i32_max(a: f32, b: f32, k: i32) -> bool {
    match to_double(a, b, k, 1.0) {
        Ok((s, e)) => s > 0 && (e > -22 || (e == -22 && s >= (1 << 53) - (1 << 22))),
        Err(x) => x.is_nan() || x > 0.0,
    }
}

/// TFLite `CalculateInputRadius`: `floor((2^ib - 1) * 2^(31 - ib) / 2^shift)`, which
/// TFLite works out in `double`; every step there is exact (a 31-bit integer divided
/// by a power of two), so the integer shift gives the same value.
pub fn input_radius(input_integer_bits: i32, input_left_shift: i32) -> i32 {
    let max_input_rescaled = ((1i64 << input_integer_bits) - 1) << (31 - input_integer_bits);
    (max_input_rescaled >> input_left_shift.clamp(0, 62)) as i32
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
    // The real-valued bounds of the clamp, quantized below.
    let (lo, hi) = match act {
        activation::NONE => (None, None),
        activation::RELU => (Some(0.0), None),
        activation::RELU6 => (Some(0.0), Some(6.0)),
        activation::RELU_N1_TO_1 => (Some(-1.0), Some(1.0)),
        _ => return None,
    };
    let lo = lo.map_or(-128, |f| quantize_i32(f, scale, zero_point).max(-128));
    let hi = hi.map_or(127, |f| quantize_i32(f, scale, zero_point).min(127));
    Some((lo, hi))
}

/// `zero_point + round(f / scale)`, saturating (one copy for every activation bound
/// and QUANTIZE from float).
#[inline(never)]
pub fn quantize_i32(f: f32, scale: f32, zero_point: i32) -> i32 {
    zero_point.saturating_add(round_f32(f / scale) as i32)
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

    /// Splits `x` into a mantissa in `[0.5, 1)` and a power-of-two exponent (C `frexp`).
    fn frexp(x: f64) -> (f64, i32) {
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

    round_half_away! {
        /// C `round` for `f64`: nearest integer, halves away from zero (|x| < 2^62).
        round_f64(f64) via i64, below 4.0e18
    }

    /// TFLite `QuantizeMultiplier`: `(multiplier, shift)` with `m ≈ multiplier * 2^(shift-31)`.
    fn quantize_multiplier_f64(m: f64) -> (i32, i32) {
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

    #[test]
    fn frexp_matches_c() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(3.0), (0.75, 2));
    }

    #[test]
    fn quantize_multiplier_matches_tflite() {
        assert_eq!(quantize_multiplier(0.5, 1.0, 0, 1.0), (1 << 30, 0));
        assert_eq!(quantize_multiplier(1.0, 1.0, 0, 1.0), (1 << 30, 1));
        assert_eq!(quantize_multiplier(0.0, 1.0, 0, 1.0), (0, 0));
        assert_eq!(quantize_multiplier_f64(0.5), (1 << 30, 0));
    }

    /// `2^k` as a `double`.
    fn pow2(k: i32) -> f64 {
        f64::from_bits(((1023 + k) as u64) << 52)
    }

    /// Scales of every kind: random bit patterns (subnormals, NaN, infinities,
    /// negatives), zeros, and values like real models' (mantissa and exponent random).
    fn scale(rng: &mut crate::test_rng::XorShift) -> f32 {
        let r = rng.next_i32() as u32;
        match r % 8 {
            0 => f32::from_bits(rng.next_i32() as u32),
            1 => [
                0.0,
                -0.0,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NAN,
                1.0,
                f32::MIN_POSITIVE,
            ][(r >> 8) as usize % 7],
            2 => f32::from_bits(rng.next_i32() as u32 & 0x807f_ffff), // subnormal
            _ => f32::from_bits(
                (rng.next_i32() as u32 & 0x007f_ffff) | ((100 + (r >> 8) % 40) << 23),
            ),
        }
    }

    #[test]
    fn quantize_multiplier_matches_the_double_code() {
        let mut rng = crate::test_rng::XorShift::new(0x1234_5678);
        for _ in 0..400_000 {
            let (a, b, c) = (scale(&mut rng), scale(&mut rng), scale(&mut rng));
            let b = if rng.next_i32() & 1 == 0 { 1.0 } else { b };
            let k = [0, -1, -19, 26, 27][(rng.next_i32() as u32 % 5) as usize];
            let x = f64::from(a) * f64::from(b) * pow2(k) / f64::from(c);
            assert_eq!(
                quantize_multiplier(a, b, k, c),
                quantize_multiplier_f64(x),
                "{a:e} {b:e} {k} {c:e}"
            );
            let (q, shift) = frexp(x);
            let rounded = round_f64(q * 2147483648.0) as i64;
            assert_eq!(
                frexp_round(a, b, k, c),
                (rounded, shift),
                "{a:e} {b:e} {k} {c:e}"
            );
            let p = f64::from(a) * f64::from(b) * pow2(k);
            let capped = p.is_nan() || p >= 2147483647.0;
            assert_eq!(product_reaches_i32_max(a, b, k), capped, "{a:e} {b:e} {k}");
        }
        // Products right at the softmax cap.
        for d in [-3i64, -2, -1, 0, 1, 2] {
            let a = f32::from_bits(0x4f00_0000); // 2^31
            let b = (2147483647.0 + d as f64 * 0.125) / 2147483648.0;
            let b32 = b as f32;
            let p = f64::from(a) * f64::from(b32);
            assert_eq!(product_reaches_i32_max(a, b32, 0), p >= 2147483647.0, "{d}");
        }
        // Products and quotients right at the rounding boundaries.
        for m in 0..2000u32 {
            let a = f32::from_bits(0x3f80_0000 + m * 4099);
            for c in [3.0f32, 7.0, 1.000_000_1, 0.999_999_9, 1.5] {
                let x = f64::from(a) / f64::from(c);
                assert_eq!(
                    quantize_multiplier(a, 1.0, 0, c),
                    quantize_multiplier_f64(x)
                );
            }
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_f32(2.5), 3.0);
        assert_eq!(round_f32(-2.5), -3.0);
        assert_eq!(round_f64(-0.4), 0.0);
    }

    /// TFLite's `CalculateInputRadius`, in `double` as TFLite writes it.
    fn input_radius_f64(ib: i32, shift: i32) -> i32 {
        let max = ((1i64 << ib) - 1) as f64 * (1i64 << (31 - ib)) as f64
            / (1i64 << shift.clamp(0, 62)) as f64;
        max.floor() as i32
    }

    #[test]
    fn input_radius_matches_the_double_formula() {
        for ib in [4, 5] {
            for shift in -3..70 {
                assert_eq!(
                    input_radius(ib, shift),
                    input_radius_f64(ib, shift),
                    "{ib} {shift}"
                );
            }
        }
    }
}
