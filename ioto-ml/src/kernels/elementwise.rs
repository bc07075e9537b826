//! ADD and MUL on int8 with 4-D broadcasting (TFLM `reference_integer_ops::Add`/`Mul`).

use super::data::{Op, as_i8};
use super::prepare::OpCtx;
use crate::error::{Error, Load, Result};
use crate::fixedpoint::{mbqm, mbqm_smaller_than_one};
use crate::quant::{activation_range_i8, quantize_multiplier};
use crate::record::{Writer, params};
use crate::schema::tensor_type::INT8;
use crate::tensor::TensorInfo;

params!(
    /// Broadcast geometry and quantization of ADD/MUL.
    EwParams {
        is_mul, d0, d1, d2, d3, a0, a1, a2, a3, b0, b1, b2, b3,
        in1_offset, in2_offset, out_offset, left_shift,
        m1, s1, m2, s2, out_m, out_s, act_min, act_max,
    }
);

/// Element strides of a 4-D broadcast operand (0 along broadcast dimensions).
fn strides(ctx: &OpCtx<'_>, t: &TensorInfo<'_>, out: &[i32; 4]) -> Load<[i32; 4]> {
    let d = t.dims4().ok_or(ctx.bad())?;
    let mut s = [0i32; 4];
    let mut stride = 1i32;
    for i in (0..4).rev() {
        if d[i] == out[i] {
            s[i] = if d[i] == 1 { 0 } else { stride };
        } else if d[i] != 1 {
            return Err(ctx.bad());
        }
        stride = stride.checked_mul(d[i]).ok_or(ctx.bad())?;
    }
    Ok(s)
}

/// Validates ADD (`is_mul == false`) or MUL and writes its parameters.
pub(crate) fn prepare(ctx: &OpCtx<'_>, w: &mut Writer<'_>, is_mul: bool) -> Load<u64> {
    ctx.input_count(2..=2)?;
    let (a, b, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output());
    for t in [&a, &b, &out] {
        ctx.require(t, INT8)?;
    }
    let od = out.dims4().ok_or(ctx.bad())?;
    let (sa, sb) = (strides(ctx, a, &od)?, strides(ctx, b, &od)?);
    let (act_min, act_max) =
        activation_range_i8(ctx.opt_i8(0, 0)?, out.scale, out.zero_point).ok_or(ctx.bad())?;
    let mut p = EwParams {
        is_mul: i32::from(is_mul),
        d0: od[0],
        d1: od[1],
        d2: od[2],
        d3: od[3],
        a0: sa[0],
        a1: sa[1],
        a2: sa[2],
        a3: sa[3],
        b0: sb[0],
        b1: sb[1],
        b2: sb[2],
        b3: sb[3],
        in1_offset: -a.zero_point,
        in2_offset: -b.zero_point,
        out_offset: out.zero_point,
        act_min,
        act_max,
        ..EwParams::default()
    };
    if is_mul {
        (p.out_m, p.out_s) = quantize_multiplier(a.scale, b.scale, 0, out.scale);
    } else {
        // TFLM: `twice_max = 2 * max`, `a / twice_max`, `b / twice_max` and
        // `twice_max / (2^left_shift * out)` (`QuantizeMultiplierSmallerThanOneExp`).
        p.left_shift = 20;
        let max = a.scale.max(b.scale);
        (p.m1, p.s1) = quantize_multiplier(a.scale, 1.0, -1, max);
        (p.m2, p.s2) = quantize_multiplier(b.scale, 1.0, -1, max);
        (p.out_m, p.out_s) = quantize_multiplier(max, 1.0, 1 - p.left_shift, out.scale);
    }
    p.write(w)?;
    Ok(0)
}

/// Runs ADD or MUL: the output in order, the two operands' element indices
/// following it along their broadcast strides.
pub(crate) fn eval(mut op: Op<'_>) -> Result<()> {
    let p = EwParams::read(&mut op.record)?;
    let b = as_i8(op.input(1));
    let (a, out) = op.int8()?;
    let dims = [p.d0, p.d1, p.d2, p.d3];
    let strides = [[p.a0, p.b0], [p.a1, p.b1], [p.a2, p.b2], [p.a3, p.b3]];
    let total = dims
        .iter()
        .fold(1usize, |n, &d| n.saturating_mul(d.max(0) as usize));
    let (mut at, mut pos) = ([0i32; 4], [0i32; 2]);
    for o in out.iter_mut().take(total) {
        let (Some(&x), Some(&y)) = (a.get(pos[0] as usize), b.get(pos[1] as usize)) else {
            return Err(Error::Malformed("broadcast bounds"));
        };
        let x = p.in1_offset + i32::from(x);
        let y = p.in2_offset + i32::from(y);
        let v = if p.is_mul != 0 {
            p.out_offset.wrapping_add(mbqm(x * y, p.out_m, p.out_s))
        } else {
            let sx = mbqm_smaller_than_one(x * (1 << p.left_shift), p.m1, p.s1);
            let sy = mbqm_smaller_than_one(y * (1 << p.left_shift), p.m2, p.s2);
            mbqm_smaller_than_one(sx.wrapping_add(sy), p.out_m, p.out_s).wrapping_add(p.out_offset)
        };
        *o = v.max(p.act_min).min(p.act_max) as i8;
        // Next output element: the innermost dimension first, carrying outwards.
        for k in (0..4).rev() {
            at[k] += 1;
            pos[0] = pos[0].wrapping_add(strides[k][0]);
            pos[1] = pos[1].wrapping_add(strides[k][1]);
            if at[k] < dims[k] {
                break;
            }
            at[k] = 0;
            pos[0] = pos[0].wrapping_sub(strides[k][0].wrapping_mul(dims[k]));
            pos[1] = pos[1].wrapping_sub(strides[k][1].wrapping_mul(dims[k]));
        }
    }
    Ok(())
}
