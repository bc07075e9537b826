//! AVERAGE_POOL_2D and MAX_POOL_2D on int8 (TFLM `reference_integer_ops` pooling).

use super::data::Op;
use super::prepare::{OpCtx, out_size_and_pad};
use crate::error::{Error, Load, Result};
use crate::quant::activation_range_i8;
use crate::record::{Writer, params};
use crate::schema::tensor_type::INT8;

params!(
    /// Shapes and activation range of a pooling operator.
    PoolParams {
        batches, in_h, in_w, channels, out_h, out_w, f_h, f_w,
        stride_h, stride_w, pad_h, pad_w, act_min, act_max, is_avg,
    }
);

/// Validates AVERAGE_POOL_2D (`is_avg`) or MAX_POOL_2D and writes its parameters.
pub(crate) fn prepare(ctx: &OpCtx<'_>, w: &mut Writer<'_>, is_avg: bool) -> Load<u64> {
    ctx.input_count(1..=1)?;
    let (input, output) = (ctx.input(0)?, ctx.output());
    ctx.require(input, INT8)?;
    ctx.require(output, INT8)?;
    if input.rank != 4 || output.rank != 4 {
        return Err(ctx.bad());
    }
    let [n, ih, iw, c] = input.dims4().ok_or(ctx.bad())?;
    let [on, oh, ow, oc] = output.dims4().ok_or(ctx.bad())?;
    let same = ctx.opt_i8(0, 0)? == 0;
    let (sw, sh) = (ctx.opt_i32(1, 1)?, ctx.opt_i32(2, 1)?);
    let (fw, fh) = (ctx.opt_i32(3, 1)?, ctx.opt_i32(4, 1)?);
    let (eh, ph) = out_size_and_pad(same, ih, fh, sh, 1).ok_or(ctx.bad())?;
    let (ew, pw) = out_size_and_pad(same, iw, fw, sw, 1).ok_or(ctx.bad())?;
    if on != n || oc != c || eh != oh || ew != ow {
        return Err(ctx.bad());
    }
    let (act_min, act_max) =
        activation_range_i8(ctx.opt_i8(5, 0)?, output.scale, output.zero_point).ok_or(ctx.bad())?;
    PoolParams {
        batches: n,
        in_h: ih,
        in_w: iw,
        channels: c,
        out_h: oh,
        out_w: ow,
        f_h: fh,
        f_w: fw,
        stride_h: sh,
        stride_w: sw,
        pad_h: ph,
        pad_w: pw,
        act_min,
        act_max,
        is_avg: i32::from(is_avg),
    }
    .write(w)?;
    Ok(0)
}

/// Runs a pooling operator.
pub(crate) fn eval(op: Op<'_>) -> Result<()> {
    let (p, input, out) = op.int8_with::<PoolParams>()?;
    let c = p.channels as usize;
    let mut o = 0usize;
    for b in 0..p.batches {
        for oy in 0..p.out_h {
            let y0 = oy * p.stride_h - p.pad_h;
            let (fy0, fy1) = ((-y0).max(0), p.f_h.min(p.in_h - y0));
            for ox in 0..p.out_w {
                let x0 = ox * p.stride_w - p.pad_w;
                let (fx0, fx1) = ((-x0).max(0), p.f_w.min(p.in_w - x0));
                for ch in 0..c {
                    let mut sum = 0i32;
                    let mut count = 0i32;
                    let mut max = i8::MIN;
                    for fy in fy0..fy1 {
                        for fx in fx0..fx1 {
                            let idx =
                                (((b * p.in_h + y0 + fy) * p.in_w + x0 + fx) as usize) * c + ch;
                            let v = *input.get(idx).ok_or(Error::Malformed("pool bounds"))?;
                            sum = sum.wrapping_add(i32::from(v));
                            count += 1;
                            max = max.max(v);
                        }
                    }
                    let v = if p.is_avg != 0 {
                        if count == 0 {
                            return Err(Error::Malformed("empty pooling window"));
                        }
                        let avg = if sum > 0 {
                            (sum + count / 2) / count
                        } else {
                            (sum - count / 2) / count
                        };
                        avg.max(p.act_min).min(p.act_max)
                    } else {
                        i32::from(max).max(p.act_min).min(p.act_max)
                    };
                    if let Some(slot) = out.get_mut(o) {
                        *slot = v as i8;
                    }
                    o += 1;
                }
            }
        }
    }
    Ok(())
}
