//! MEAN on int8 over any set of axes (TFLM `QuantizedMeanOrSum` with the integer
//! output rescaling that folds `1 / count` into the multiplier).

use super::data::Op;
use super::prepare::OpCtx;
use crate::error::{Error, Load, Result};
use crate::fixedpoint::mbqm;
use crate::quant::quantize_multiplier;
use crate::record::{Writer, params};
use crate::schema::tensor_type::INT8;

params!(
    /// Reduction geometry (4-D, with a mask of reduced axes) and rescaling.
    MeanParams { d0, d1, d2, d3, r0, r1, r2, r3, input_zero_point, count, multiplier, shift, output_zero_point }
);

/// Validates MEAN and writes its parameters.
pub(crate) fn prepare(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    ctx.input_count(2..=2)?;
    let (input, axis, output) = (ctx.input(0)?, ctx.input(1)?, ctx.output());
    ctx.require(input, INT8)?;
    ctx.require(output, INT8)?;
    let d = input.dims4().ok_or(ctx.bad())?;
    let rank = input.rank as i64;
    let mut reduced = [false; 4];
    for i in 0..axis.elems {
        let mut a = axis.const_int(i)?;
        if a < 0 {
            a += rank;
        }
        if !(0..rank).contains(&a) {
            return Err(ctx.bad());
        }
        reduced[(4 - rank + a) as usize] = true;
    }
    let mut count: i64 = 1;
    let mut kept: usize = 1;
    for i in 0..4 {
        if reduced[i] {
            count *= i64::from(d[i]);
        } else {
            kept *= d[i] as usize;
        }
    }
    if output.elems != kept || count > i64::from(i32::MAX) {
        return Err(ctx.bad());
    }
    let (mut multiplier, mut shift) = quantize_multiplier(input.scale, 1.0, 0, output.scale);
    if count > 0 {
        let s = (63 - (count as u64).leading_zeros() as i32)
            .min(32)
            .min(31 + shift);
        multiplier = ((i64::from(multiplier) << s) / count) as i32;
        shift -= s;
    }
    MeanParams {
        d0: d[0],
        d1: d[1],
        d2: d[2],
        d3: d[3],
        r0: i32::from(reduced[0]),
        r1: i32::from(reduced[1]),
        r2: i32::from(reduced[2]),
        r3: i32::from(reduced[3]),
        input_zero_point: input.zero_point,
        count: count as i32,
        multiplier,
        shift,
        output_zero_point: output.zero_point,
    }
    .write(w)?;
    Ok(0)
}

/// Runs MEAN.
pub(crate) fn eval(op: Op<'_>) -> Result<()> {
    let (p, input, out) = op.int8_with::<MeanParams>()?;
    let d = [p.d0, p.d1, p.d2, p.d3];
    let red = [p.r0 != 0, p.r1 != 0, p.r2 != 0, p.r3 != 0];
    // Outer ranges: kept axes iterate, reduced axes stay 0; inner: the reverse.
    let outer = |i: usize| if red[i] { 1 } else { d[i] };
    let inner = |i: usize| if red[i] { d[i] } else { 1 };
    let mut o = 0usize;
    for a0 in 0..outer(0) {
        for a1 in 0..outer(1) {
            for a2 in 0..outer(2) {
                for a3 in 0..outer(3) {
                    let mut sum = 0i32;
                    for b0 in 0..inner(0) {
                        for b1 in 0..inner(1) {
                            for b2 in 0..inner(2) {
                                for b3 in 0..inner(3) {
                                    let idx = (((a0 + b0) * d[1] + a1 + b1) * d[2] + a2 + b2)
                                        * d[3]
                                        + a3
                                        + b3;
                                    let v = input
                                        .get(idx as usize)
                                        .ok_or(Error::Malformed("mean bounds"))?;
                                    sum = sum.wrapping_add(i32::from(*v));
                                }
                            }
                        }
                    }
                    if p.count == 0 {
                        return Ok(());
                    }
                    let shifted = sum.wrapping_sub(p.input_zero_point.wrapping_mul(p.count));
                    let v = mbqm(shifted, p.multiplier, p.shift).wrapping_add(p.output_zero_point);
                    if let Some(slot) = out.get_mut(o) {
                        *slot = v.clamp(-128, 127) as i8;
                    }
                    o += 1;
                }
            }
        }
    }
    Ok(())
}
