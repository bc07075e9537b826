//! Integer fixed-point arithmetic, bit-identical to TFLite's `common.h` and the
//! gemmlowp `fixedpoint.h` routines that TFLM's reference kernels use.
//!
//! Raw `i32` values carry the fixed-point number; the number of integer bits is a
//! const parameter where it matters. Additions wrap like the C++ code does in practice.
//!
//! Provenance: a Rust rendering of gemmlowp's `fixedpoint.h` (Copyright The Gemmlowp
//! Authors) and TFLite's `common.h` (Copyright The TensorFlow Authors), both
//! Apache-2.0, with the same algorithms and constants; recorded in `ioto-ml/NOTICE`.

/// `SaturatingRoundingDoublingHighMul`: `(a * b * 2) >> 32`, rounded, saturating.
#[inline(always)]
pub fn srdhm(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    // TFLite computes `(ab + nudge) / 2^31` with `nudge = 2^30` for `ab >= 0`, else
    // `1 - 2^30`, and a division that truncates toward zero. For `ab < 0` that is
    // `floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31)`, so both cases are the one
    // arithmetic shift below (no 64-bit division; `srdhm_matches_tflite_formula`).
    let ab = i64::from(a) * i64::from(b);
    ((ab + (1 << 30)) >> 31) as i32
}

/// `RoundingDivideByPOT`: `x / 2^exponent`, rounded half away from zero.
#[inline(always)]
pub fn rdbpot(x: i32, exponent: i32) -> i32 {
    // Valid models keep 0 <= exponent <= 31; wrapping shifts keep hostile ones
    // panic-free (and behave like the C++ code does on x86).
    let mask: i32 = 1i64.wrapping_shl(exponent as u32).wrapping_sub(1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1).wrapping_add(i32::from(x < 0));
    x.wrapping_shr(exponent as u32)
        .wrapping_add(i32::from(remainder > threshold))
}

/// `MultiplyByQuantizedMultiplier` with TFLite's default double rounding.
#[inline(always)]
pub fn mbqm(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = if shift > 0 { shift } else { 0 };
    let right = if shift > 0 { 0 } else { -shift };
    rdbpot(
        srdhm(x.wrapping_mul(1i32.wrapping_shl(left as u32)), multiplier),
        right,
    )
}

/// `MultiplyByQuantizedMultiplierSmallerThanOneExp` (`left_shift <= 0`).
#[inline(always)]
pub fn mbqm_smaller_than_one(x: i32, multiplier: i32, left_shift: i32) -> i32 {
    rdbpot(srdhm(x, multiplier), -left_shift)
}

/// `MultiplyByQuantizedMultiplierGreaterThanOne` (`left_shift >= 0`).
#[inline(always)]
pub fn mbqm_greater_than_one(x: i32, multiplier: i32, left_shift: i32) -> i32 {
    srdhm(
        x.wrapping_mul(1i32.wrapping_shl(left_shift as u32)),
        multiplier,
    )
}

/// gemmlowp `SaturatingRoundingMultiplyByPOT<exponent>`.
#[inline(always)]
pub fn sat_mul_pot(x: i32, exponent: i32) -> i32 {
    if exponent > 0 {
        let threshold = (1i32 << (31 - exponent)) - 1;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x << exponent
        }
    } else if exponent < 0 {
        rdbpot(x, -exponent)
    } else {
        x
    }
}

/// gemmlowp `RoundingHalfSum`.
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = i64::from(a) + i64::from(b);
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// Raw value of `1.0` in a fixed-point type with `int_bits` integer bits.
const fn one(int_bits: i32) -> i32 {
    if int_bits == 0 {
        i32::MAX
    } else {
        1 << (31 - int_bits)
    }
}

/// gemmlowp `exp_on_interval_between_negative_one_quarter_and_0_excl` (Q0.31 in/out).
fn exp_on_interval(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1_895_147_668;
    const ONE_THIRD: i32 = 715_827_883;
    let x = a.wrapping_add(1 << 28);
    let x2 = srdhm(x, x);
    let x3 = srdhm(x2, x);
    let x4 = srdhm(x2, x2);
    let x4_over_4 = sat_mul_pot(x4, -2);
    let poly = sat_mul_pot(
        srdhm(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        -1,
    );
    CONSTANT_TERM.wrapping_add(srdhm(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// gemmlowp `exp_on_negative_values` for an input with `int_bits` integer bits;
/// returns Q0.31.
pub fn exp_on_negative_values(a: i32, int_bits: i32) -> i32 {
    let frac_bits = 31 - int_bits;
    let one_quarter = 1i32 << (frac_bits - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result = exp_on_interval(sat_mul_pot(a_mod_quarter_minus_one_quarter, int_bits));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (exponent, multiplier) in BARREL {
        if int_bits > exponent {
            let shift = frac_bits + exponent;
            if remainder & (1i32 << shift) != 0 {
                result = srdhm(result, multiplier);
            }
        }
    }
    if int_bits > 5 {
        let clamp = -(1i32 << (36 - int_bits));
        if a < clamp {
            result = 0;
        }
    }
    if a == 0 { one(0) } else { result }
}

/// Newton-Raphson reciprocal shared by `one_over_one_plus_x_for_x_in_0_1` and
/// `one_minus_x_over_one_plus_x_for_x_in_0_1`; returns the Q2.29 estimate of
/// `1 / (1 + a)` times two... exactly gemmlowp's `x` after three iterations.
fn newton_reciprocal(a: i32) -> i32 {
    const C48_17: i32 = 1_515_870_810;
    const CNEG32_17: i32 = -1_010_580_540;
    let half_denominator = rounding_half_sum(a, one(0));
    let mut x = C48_17.wrapping_add(srdhm(half_denominator, CNEG32_17));
    for _ in 0..3 {
        let hdx = srdhm(half_denominator, x);
        let one_minus = one(2).wrapping_sub(hdx);
        x = x.wrapping_add(sat_mul_pot(srdhm(x, one_minus), 2));
    }
    x
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1` (Q0.31 in/out).
pub fn one_over_one_plus_x(a: i32) -> i32 {
    let x = newton_reciprocal(a);
    // ExactMulByPot<-1> reinterprets Q2.29 as Q1.30; Rescale<0> then doubles.
    sat_mul_pot(x, 1)
}

/// gemmlowp `one_minus_x_over_one_plus_x_for_x_in_0_1` (Q0.31 in/out).
fn one_minus_x_over_one_plus_x(a: i32) -> i32 {
    let x = newton_reciprocal(a);
    sat_mul_pot(x.wrapping_sub(one(2)), 2)
}

/// gemmlowp `logistic` for an input with `int_bits` integer bits; returns Q0.31.
pub fn logistic(a: i32, int_bits: i32) -> i32 {
    if a == 0 {
        return 1 << 30;
    }
    let abs = if a > 0 { a } else { a.wrapping_neg() };
    let positive = one_over_one_plus_x(exp_on_negative_values(abs.wrapping_neg(), int_bits));
    if a > 0 {
        positive
    } else {
        one(0).wrapping_sub(positive)
    }
}

/// gemmlowp `tanh` for an input with `int_bits` integer bits; returns Q0.31.
pub fn tanh(a: i32, int_bits: i32) -> i32 {
    if a == 0 {
        return 0;
    }
    let n = if a < 0 { a } else { a.wrapping_neg() };
    // ExactMulByPot<1> keeps the raw value and adds one integer bit.
    let t = one_minus_x_over_one_plus_x(exp_on_negative_values(n, int_bits + 1));
    if a < 0 { t.wrapping_neg() } else { t }
}

/// TFLite `GetReciprocal`: the Q0.31 reciprocal of `x` (with `x_integer_digits`
/// integer bits) and the number of bits over one.
pub fn reciprocal(x: i32, x_integer_digits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros() as i32;
    let num_bits_over_unit = x_integer_digits - headroom_plus_one;
    let shifted_sum_minus_one =
        ((x as u32).wrapping_shl(headroom_plus_one as u32)).wrapping_sub(1u32 << 31) as i32;
    (
        one_over_one_plus_x(shifted_sum_minus_one),
        num_bits_over_unit,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// TFLite's `SaturatingRoundingDoublingHighMul`, written as the C++ code is.
    fn srdhm_tflite(a: i32, b: i32) -> i32 {
        if a == i32::MIN && b == i32::MIN {
            return i32::MAX;
        }
        let ab = i64::from(a) * i64::from(b);
        let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        ((ab + nudge) / (1i64 << 31)) as i32
    }

    #[test]
    fn srdhm_matches_tflite_formula() {
        let edges = [
            i32::MIN,
            i32::MIN + 1,
            -(1 << 30) - 1,
            -(1 << 30),
            -3,
            -2,
            -1,
            0,
            1,
            2,
            3,
            1 << 30,
            (1 << 30) + 1,
            i32::MAX - 1,
            i32::MAX,
        ];
        for &a in &edges {
            for &b in &edges {
                assert_eq!(srdhm(a, b), srdhm_tflite(a, b), "{a} {b}");
            }
        }
        // xorshift over the whole range, plus small accumulators times real multipliers.
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9);
        let mut next = || rng.next_i32();
        for _ in 0..200_000 {
            let (a, b) = (next(), next());
            assert_eq!(srdhm(a, b), srdhm_tflite(a, b), "{a} {b}");
            let small = a >> 12;
            let m = (b & 0x3fff_ffff) | 0x4000_0000;
            assert_eq!(srdhm(small, m), srdhm_tflite(small, m), "{small} {m}");
        }
    }

    #[test]
    fn rounding_divide_rounds_half_away_from_zero() {
        assert_eq!(rdbpot(5, 1), 3);
        assert_eq!(rdbpot(-5, 1), -3);
        assert_eq!(rdbpot(4, 1), 2);
        assert_eq!(rdbpot(-6, 2), -2);
    }

    #[test]
    fn doubling_high_mul_saturates() {
        assert_eq!(srdhm(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(srdhm(1 << 30, 1 << 30), 1 << 29);
    }

    #[test]
    fn exp_of_zero_is_one() {
        assert_eq!(exp_on_negative_values(0, 5), i32::MAX);
        assert_eq!(logistic(0, 4), 1 << 30);
    }
}
