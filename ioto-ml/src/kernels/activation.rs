//! SOFTMAX, LOGISTIC, TANH, RELU and RELU6 on int8, with TFLM's fixed-point
//! algorithms (gemmlowp `exp_on_negative_values`, `logistic`, `tanh`).

use super::data::Op;
use super::prepare::OpCtx;
use crate::error::{Error, Load, Result};
use crate::fixedpoint::{
    exp_on_negative_values, logistic, mbqm, mbqm_greater_than_one, rdbpot, reciprocal, sat_mul_pot,
    srdhm, tanh,
};
use crate::quant::{
    frexp_round, input_radius, product_reaches_i32_max, quantize_i32, quantize_multiplier,
};
use crate::record::{Writer, params};
use crate::schema::tensor_type::INT8;
use crate::tensor::TensorInfo;

params!(
    /// Softmax row geometry and input scaling.
    SoftmaxParams { outer, depth, input_multiplier, input_left_shift, diff_min }
);

params!(
    /// LOGISTIC/TANH input scaling.
    SigmoidParams { is_tanh, input_zero_point, radius, multiplier, left_shift }
);

params!(
    /// RELU/RELU6 requantization and clamp.
    ReluParams { input_zero_point, output_offset, multiplier, shift, act_min, act_max }
);

fn int8_unary<'c, 'm>(ctx: &'c OpCtx<'m>) -> Load<(&'c TensorInfo<'m>, &'c TensorInfo<'m>)> {
    ctx.input_count(1..=1)?;
    let (input, output) = ctx.unary()?;
    ctx.require(input, INT8)?;
    ctx.require(output, INT8)?;
    Ok((input, output))
}

/// Validates SOFTMAX and writes its parameters (TFLM `CalculateSoftmaxParams`).
pub(crate) fn prepare_softmax(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    let (input, _) = int8_unary(ctx)?;
    let depth = input.dim_back(0);
    if depth <= 0 {
        return Err(ctx.bad());
    }
    const SCALED_DIFF_INTEGER_BITS: i32 = 5;
    // TFLM: `min(double(beta) * scale * 2^(31 - 5), 2^31 - 1)`, then QuantizeMultiplier.
    let beta = ctx.opt_f32(0, 0.0)?;
    let k = 31 - SCALED_DIFF_INTEGER_BITS;
    let (multiplier, left_shift) = if product_reaches_i32_max(beta, input.scale, k) {
        (i32::MAX, 31) // QuantizeMultiplier(2^31 - 1)
    } else {
        quantize_multiplier(beta, input.scale, k, 1.0)
    };
    if left_shift < 0 {
        return Err(ctx.bad());
    }
    SoftmaxParams {
        outer: (input.elems / depth as usize) as i32,
        depth,
        input_multiplier: multiplier,
        input_left_shift: left_shift,
        diff_min: -input_radius(SCALED_DIFF_INTEGER_BITS, left_shift),
    }
    .write(w)?;
    Ok(0)
}

/// Runs int8 SOFTMAX (TFLM `reference_ops::Softmax` for int8 in and out).
pub(crate) fn eval_softmax(op: Op<'_>) -> Result<()> {
    let (p, input, out) = op.int8_with::<SoftmaxParams>()?;
    let depth = p.depth as usize;
    for row in 0..p.outer as usize {
        let x = input
            .get(row * depth..(row + 1) * depth)
            .ok_or(Error::Malformed("softmax bounds"))?;
        let y = out
            .get_mut(row * depth..(row + 1) * depth)
            .ok_or(Error::Malformed("softmax bounds"))?;
        let max = x.iter().copied().max().unwrap_or(i8::MIN);
        let scaled_exp = |v: i8| -> Option<i32> {
            let diff = i32::from(v) - i32::from(max);
            (diff >= p.diff_min).then(|| {
                let rescaled = mbqm_greater_than_one(diff, p.input_multiplier, p.input_left_shift);
                exp_on_negative_values(rescaled, 5)
            })
        };
        // Sum in Q12.19 (kAccumulationIntegerBits = 12).
        let mut sum = 0i32;
        for &v in x {
            if let Some(e) = scaled_exp(v) {
                sum = sum.wrapping_add(sat_mul_pot(e, -12));
            }
        }
        let (shifted_scale, bits_over_unit) = reciprocal(sum, 12);
        for (o, &v) in y.iter_mut().zip(x) {
            *o = match scaled_exp(v) {
                Some(e) => {
                    let unsat =
                        rdbpot(srdhm(shifted_scale, e), bits_over_unit.wrapping_add(31 - 8));
                    unsat.wrapping_sub(128).clamp(-128, 127) as i8
                }
                None => i8::MIN,
            };
        }
    }
    Ok(())
}

/// Validates LOGISTIC (`is_tanh == false`) or TANH and writes its parameters.
pub(crate) fn prepare_sigmoid(ctx: &OpCtx<'_>, w: &mut Writer<'_>, is_tanh: bool) -> Load<u64> {
    let (input, _) = int8_unary(ctx)?;
    const INPUT_INTEGER_BITS: i32 = 4;
    // TFLM: `frexp(double(scale) * 2^(31 - 4))`, its mantissa times 2^31 rounded;
    // like the C++ cast on x86, 2^31 wraps to i32::MIN.
    let (q, left_shift) = frexp_round(input.scale, 1.0, 31 - INPUT_INTEGER_BITS, 1.0);
    let multiplier = q as i32;
    SigmoidParams {
        is_tanh: i32::from(is_tanh),
        input_zero_point: input.zero_point,
        radius: input_radius(INPUT_INTEGER_BITS, left_shift),
        multiplier,
        left_shift,
    }
    .write(w)?;
    Ok(0)
}

/// Runs LOGISTIC or TANH (TFLM `reference_integer_ops::Logistic`/`Tanh`).
pub(crate) fn eval_sigmoid(op: Op<'_>) -> Result<()> {
    op.map_int8(|p: &SigmoidParams, v| {
        let x = i32::from(v) - p.input_zero_point;
        if x <= -p.radius {
            i8::MIN
        } else if x >= p.radius {
            i8::MAX
        } else {
            let q4 = mbqm(x, p.multiplier, p.left_shift);
            if p.is_tanh != 0 {
                rdbpot(tanh(q4, 4), 31 - 7).clamp(-128, 127) as i8
            } else {
                (rdbpot(logistic(q4, 4), 31 - 8) - 128).clamp(-128, 127) as i8
            }
        }
    })
}

/// Validates RELU and writes its parameters (TFLM `CalculateReluOpData`).
pub(crate) fn prepare_relu(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    let (input, output) = int8_unary(ctx)?;
    let (multiplier, shift) = quantize_multiplier(input.scale, 1.0, 0, output.scale);
    let act_min = (-128i32).max(quantize_i32(0.0, output.scale, output.zero_point));
    ReluParams {
        input_zero_point: input.zero_point,
        output_offset: output.zero_point,
        multiplier,
        shift,
        act_min,
        act_max: 127,
    }
    .write(w)?;
    Ok(0)
}

/// Runs RELU.
pub(crate) fn eval_relu(op: Op<'_>) -> Result<()> {
    op.map_int8(|p: &ReluParams, v| {
        let x = i32::from(v) - p.input_zero_point;
        let y = p.output_offset.wrapping_add(mbqm(x, p.multiplier, p.shift));
        y.max(p.act_min).min(p.act_max) as i8
    })
}

/// Validates RELU6 and writes its parameters (TFLM `Relu6Prepare`).
pub(crate) fn prepare_relu6(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    let (input, _) = int8_unary(ctx)?;
    let six = quantize_i32(6.0, input.scale, input.zero_point).clamp(-128, 127);
    ReluParams {
        act_min: input.zero_point.clamp(-128, 127),
        act_max: six,
        ..ReluParams::default()
    }
    .write(w)?;
    Ok(0)
}

/// Runs RELU6: clamps to `[zero, six]` in the input's quantization.
pub(crate) fn eval_relu6(op: Op<'_>) -> Result<()> {
    op.map_int8(|p: &ReluParams, v| {
        let x = i32::from(v);
        (if x > p.act_max {
            p.act_max
        } else if x < p.act_min {
            p.act_min
        } else {
            x
        }) as i8
    })
}
