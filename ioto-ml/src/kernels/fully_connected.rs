//! FULLY_CONNECTED: int8 (per-tensor or per-channel weights, int32 bias) and the
//! float32 reference (TFLM `reference_integer_ops::FullyConnected` / `reference_ops`).

use super::data::{Op, as_i8, as_i8_mut, read_f32, read_i32};
use super::dot::{dot_offset, dot2_offset};
use super::prepare::{OpCtx, dim, write_shared_multiplier};
use super::requant::{ChannelQuant, Requant};
use crate::error::{Error, Load, Result};
use crate::quant::{activation_range_f32, activation_range_i8};
use crate::record::{Writer, params};
use crate::schema::tensor_type::{FLOAT32, INT8, INT32};

params!(
    /// Shapes and scalar quantization of a fully-connected layer.
    FcParams {
        batches, accum, out_depth, input_offset, filter_offset, output_offset,
        act_min, act_max, is_float,
    }
);

/// Validates a FULLY_CONNECTED and writes its parameters; returns MACs.
pub(crate) fn prepare(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    let t = ctx.weighted()?;
    let (input, filter, bias, output) = (t.input, t.filter, t.bias, t.output);
    if filter.rank != 2 || filter.data.is_none() {
        return Err(ctx.bad());
    }
    let (out_depth, accum) = (dim(filter.dims[0])?, dim(filter.dims[1])?);
    if accum == 0 || input.elems % accum != 0 {
        return Err(ctx.bad());
    }
    let batches = input.elems / accum;
    if output.elems != batches * out_depth {
        return Err(ctx.bad());
    }
    let act = ctx.opt_i8(0, 0)?;
    let is_float = input.ty == FLOAT32;
    let mut p = FcParams {
        batches: batches as i32,
        accum: accum as i32,
        out_depth: out_depth as i32,
        is_float: i32::from(is_float),
        ..FcParams::default()
    };
    if is_float {
        ctx.require(filter, FLOAT32)?;
        ctx.require(output, FLOAT32)?;
        ctx.check_bias(bias, out_depth, FLOAT32)?;
        let (lo, hi) = activation_range_f32(act).ok_or(ctx.bad())?;
        p.act_min = lo.to_bits() as i32;
        p.act_max = hi.to_bits() as i32;
        p.write(w)?;
    } else {
        ctx.require(input, INT8)?;
        ctx.require(filter, INT8)?;
        ctx.require(output, INT8)?;
        ctx.check_bias(bias, out_depth, INT32)?;
        let (lo, hi) =
            activation_range_i8(act, output.scale, output.zero_point).ok_or(ctx.bad())?;
        p.input_offset = -input.zero_point;
        p.filter_offset = -filter.zero_point;
        p.output_offset = output.zero_point;
        p.act_min = lo;
        p.act_max = hi;
        p.write(w)?;
        if filter.scale_count() > 1 {
            ctx.write_channel_multipliers(w, &t, out_depth)?;
        } else {
            // TFLM's GetQuantizedConvolutionMultipler multiplies the scales in float.
            write_shared_multiplier(w, input.scale * filter.scale, output.scale)?;
        }
    }
    Ok((batches * accum * out_depth) as u64)
}

/// Runs FULLY_CONNECTED.
pub(crate) fn eval(mut op: Op<'_>) -> Result<()> {
    let p = FcParams::read(&mut op.record)?;
    let operands = [op.first()?, op.input(1), op.input(2)];
    if p.is_float != 0 {
        return eval_float(&p, operands, op.output);
    }
    let q = ChannelQuant::read(&mut op.record)?;
    eval_int8(&p, &q, operands, as_i8_mut(op.output))
}

/// The int8 path of [`eval`] over `[input, filter, bias]` (its own function, so that
/// the registers of the row loop do not depend on the entry code).
#[inline(never)]
fn eval_int8(
    p: &FcParams,
    q: &ChannelQuant<'_>,
    [input, filter, bias]: [&[u8]; 3],
    out: &mut [i8],
) -> Result<()> {
    let (batches, accum, depth) = (p.batches as usize, p.accum as usize, p.out_depth as usize);
    let bad = || Error::Malformed("fc bounds");
    if accum == 0 {
        return Err(bad());
    }
    if depth == 0 {
        return Ok(());
    }
    let input = as_i8(input).get(..batches * accum).ok_or_else(bad)?;
    let filter = as_i8(filter).get(..depth * accum).ok_or_else(bad)?;
    let out = out.get_mut(..batches * depth).ok_or_else(bad)?;
    let shared = channel_requant(p, q, 0);
    let (mut r0, mut r1) = (shared, shared);
    let off = p.input_offset;
    for (x, out) in input.chunks_exact(accum).zip(out.chunks_exact_mut(depth)) {
        // A filter zero point adds `filter_offset * sum(x + off)` to every output
        // (wrapping, like the sum of the products it stands for).
        let extra = if p.filter_offset != 0 {
            let sum = x
                .iter()
                .fold(0i32, |a, &v| a.wrapping_add(i32::from(v) + off));
            p.filter_offset.wrapping_mul(sum)
        } else {
            0
        };
        let start = |c: usize| read_i32(bias, c).wrapping_add(extra);
        // Two rows at a time share each widened input word.
        let mut pairs = filter.chunks_exact(2 * accum);
        let mut outs = out.chunks_exact_mut(2);
        for (k, (f, o)) in (&mut pairs).zip(&mut outs).enumerate() {
            let (f0, f1) = f.split_at(accum);
            let (a0, a1) = dot2_offset(x, f0, f1, off);
            let c = 2 * k;
            if q.per_channel() {
                (r0, r1) = (channel_requant(p, q, c), channel_requant(p, q, c + 1));
            }
            if let [o0, o1] = o {
                *o0 = r0.apply(a0.wrapping_add(start(c)));
                *o1 = r1.apply(a1.wrapping_add(start(c + 1)));
            }
        }
        if let Some(o) = outs.into_remainder().first_mut() {
            let c = depth - 1;
            if q.per_channel() {
                r0 = channel_requant(p, q, c);
            }
            let acc = dot_offset(x, pairs.remainder(), off);
            *o = r0.apply(acc.wrapping_add(start(c)));
        }
    }
    Ok(())
}

/// Channel `c`'s requantization.
fn channel_requant(p: &FcParams, q: &ChannelQuant<'_>, c: usize) -> Requant {
    q.requant(c, p.output_offset, p.act_min, p.act_max)
}

/// The float32 path of [`eval`] over `[input, filter, bias]`.
#[inline(never)]
fn eval_float(p: &FcParams, [input, filter, bias]: [&[u8]; 3], output: &mut [u8]) -> Result<()> {
    let (batches, accum, depth) = (p.batches as usize, p.accum as usize, p.out_depth as usize);
    let (lo, hi) = (
        f32::from_bits(p.act_min as u32),
        f32::from_bits(p.act_max as u32),
    );
    for b in 0..batches {
        for oc in 0..depth {
            let mut total = 0.0f32;
            for d in 0..accum {
                total += read_f32(input, b * accum + d) * read_f32(filter, oc * accum + d);
            }
            let bias_value = if bias.is_empty() {
                0.0
            } else {
                read_f32(bias, oc)
            };
            let v = (total + bias_value).max(lo).min(hi);
            let o = 4 * (b * depth + oc);
            output
                .get_mut(o..o + 4)
                .ok_or(Error::Malformed("fc bounds"))?
                .copy_from_slice(&v.to_le_bytes());
        }
    }
    Ok(())
}
