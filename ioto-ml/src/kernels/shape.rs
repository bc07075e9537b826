//! RESHAPE, PAD/PADV2 and CONCATENATION: data movement for int8 and float32 tensors.

use super::data::Op;
use super::prepare::OpCtx;
use crate::error::{Error, Load, Result};
use crate::record::{MAX_INPUTS, Writer, params};
use crate::schema::tensor_type::INT8;

/// Validates RESHAPE (same byte size in and out).
pub(crate) fn prepare_reshape(ctx: &OpCtx<'_>, _w: &mut Writer<'_>) -> Load<u64> {
    ctx.input_count(1..=2)?;
    let (input, output) = ctx.unary()?;
    if input.ty != output.ty || input.bytes != output.bytes {
        return Err(ctx.bad());
    }
    Ok(0)
}

/// Runs RESHAPE (a copy; the planner never aliases tensors).
pub(crate) fn eval_reshape(op: Op<'_>) -> Result<()> {
    let input = op.first()?;
    if input.len() != op.output.len() {
        return Err(Error::Malformed("reshape size"));
    }
    op.output.copy_from_slice(input);
    Ok(())
}

params!(
    /// 4-D padding geometry and the padding element.
    PadParams { elem, i0, i1, i2, i3, o0, o1, o2, o3, b0, b1, b2, b3, value }
);

/// Validates PAD/PADV2 (constant paddings) and writes its parameters.
pub(crate) fn prepare_pad(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    ctx.input_count(2..=3)?;
    let (input, paddings, output) = (ctx.input(0)?, ctx.input(1)?, ctx.output());
    if input.ty != output.ty {
        return Err(ctx.bad());
    }
    let elem = ctx.elem_size(input)?;
    let (id, od) = (
        input.dims4().ok_or(ctx.bad())?,
        output.dims4().ok_or(ctx.bad())?,
    );
    if paddings.elems != 2 * input.rank || output.rank != input.rank {
        return Err(ctx.bad());
    }
    let mut before = [0i32; 4];
    for k in 0..input.rank {
        let (b, a) = (paddings.const_int(2 * k)?, paddings.const_int(2 * k + 1)?);
        let slot = 4 - input.rank + k;
        if b < 0 || a < 0 || i64::from(id[slot]) + b + a != i64::from(od[slot]) {
            return Err(ctx.bad());
        }
        before[slot] = b as i32;
    }
    let value = match ctx.opt_input(2) {
        Some(c) => {
            let d = c
                .data
                .filter(|d| d.len() >= elem && c.ty == input.ty)
                .ok_or(ctx.bad())?;
            if elem == 1 {
                i32::from(d[0] as i8)
            } else {
                i32::from_le_bytes([d[0], d[1], d[2], d[3]])
            }
        }
        None if input.ty == INT8 => output.zero_point,
        None => 0,
    };
    PadParams {
        elem: elem as i32,
        i0: id[0],
        i1: id[1],
        i2: id[2],
        i3: id[3],
        o0: od[0],
        o1: od[1],
        o2: od[2],
        o3: od[3],
        b0: before[0],
        b1: before[1],
        b2: before[2],
        b3: before[3],
        value,
    }
    .write(w)?;
    Ok(0)
}

/// Runs PAD: the padding value everywhere, then each input row (the innermost
/// dimension, contiguous in both tensors) copied into place.
pub(crate) fn eval_pad(mut op: Op<'_>) -> Result<()> {
    let p = PadParams::read(&mut op.record)?;
    let (input, output) = (op.first()?, op.output);
    let bad = Error::Malformed("pad bounds");
    let e = p.elem as usize;
    let pad_bytes = p.value.to_le_bytes();
    let pad = pad_bytes.get(..e).filter(|_| e > 0).ok_or(bad)?;
    for slot in output.chunks_exact_mut(e) {
        slot.copy_from_slice(pad);
    }
    let row = p.i3 as usize * e;
    let mut src = 0usize;
    for y0 in 0..p.i0 {
        for y1 in 0..p.i1 {
            for y2 in 0..p.i2 {
                let at = (((y0 + p.b0) * p.o1 + y1 + p.b1) * p.o2 + y2 + p.b2) * p.o3 + p.b3;
                let dst = at as usize * e;
                output
                    .get_mut(dst..dst + row)
                    .ok_or(bad)?
                    .copy_from_slice(input.get(src..src + row).ok_or(bad)?);
                src += row;
            }
        }
    }
    Ok(())
}

params!(
    /// Outer repeat count of a concatenation; per-input chunk sizes follow.
    ConcatParams { outer, inputs }
);

/// Validates CONCATENATION and writes its parameters.
pub(crate) fn prepare_concat(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    let n = ctx.input_len();
    if n == 0 || ctx.opt_i8(1, 0)? != 0 {
        return Err(ctx.bad());
    }
    let output = ctx.output();
    ctx.elem_size(output)?;
    let rank = output.rank as i32;
    let mut axis = ctx.opt_i32(0, 0)?;
    if axis < 0 {
        axis += rank;
    }
    if !(0..rank.max(1)).contains(&axis) {
        return Err(ctx.bad());
    }
    let axis = axis as usize;
    let outer: usize = output.dims[..axis.min(output.rank)]
        .iter()
        .map(|&d| d as usize)
        .product();
    let mut axis_total = 0i64;
    let mut chunks = [0i32; MAX_INPUTS];
    for (k, chunk) in chunks.iter_mut().enumerate().take(n) {
        let t = ctx.input(k)?;
        if t.ty != output.ty || t.rank != output.rank {
            return Err(ctx.bad());
        }
        for d in 0..t.rank {
            if d != axis && t.dims[d] != output.dims[d] {
                return Err(ctx.bad());
            }
        }
        axis_total += i64::from(t.dims.get(axis).copied().unwrap_or(1));
        *chunk = t.bytes.checked_div(outer).unwrap_or(0) as i32;
    }
    if output.rank > 0 && axis_total != i64::from(output.dims[axis]) {
        return Err(ctx.bad());
    }
    ConcatParams {
        outer: outer as i32,
        inputs: n as i32,
    }
    .write(w)?;
    w.push_all(chunks.get(..n).ok_or(ctx.bad())?)?;
    Ok(0)
}

/// Runs CONCATENATION.
pub(crate) fn eval_concat(mut op: Op<'_>) -> Result<()> {
    let p = ConcatParams::read(&mut op.record)?;
    let chunks = op.record.words(p.inputs as usize)?;
    let (inputs, output) = (op.inputs, op.output);
    let mut o = 0usize;
    for outer in 0..p.outer as usize {
        for (k, input) in inputs.iter().enumerate() {
            let c = chunks.get(k) as usize;
            let src = input
                .get(outer * c..(outer + 1) * c)
                .ok_or(Error::Malformed("concat bounds"))?;
            output
                .get_mut(o..o + c)
                .ok_or(Error::Malformed("concat bounds"))?
                .copy_from_slice(src);
            o += c;
        }
    }
    Ok(())
}
