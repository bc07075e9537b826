//! CONV_2D and DEPTHWISE_CONV_2D, int8 with per-channel requantization
//! (TFLM `reference_integer_ops::ConvPerChannel` / `DepthwiseConvPerChannel`).

use super::{ChannelQuant, check_bias, dim, out_size_and_pad, read_i32, write_channel_multipliers};
use crate::error::Result;
use crate::kernels::dot::mac4_offset;
use crate::ops::{OpCtx, as_i8, as_i8_mut};
use crate::quant::activation_range_i8;
use crate::record::{Reader, Writer, params};
use crate::schema::tensor_type::{INT8, INT32};

params!(
    /// Shapes and scalar quantization of a convolution.
    ConvParams {
        batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w,
        stride_h, stride_w, dil_h, dil_w, pad_h, pad_w,
        input_offset, output_offset, act_min, act_max, depth_multiplier,
    }
);

/// Option field numbers that differ between Conv2DOptions and DepthwiseConv2DOptions.
struct Fields {
    stride_w: usize,
    stride_h: usize,
    act: usize,
    dil_w: usize,
    dil_h: usize,
}

fn prepare(ctx: &OpCtx<'_, '_>, w: &mut Writer<'_>, depthwise: bool) -> Result<u64> {
    ctx.input_count(2..=3)?;
    let (input, filter, bias, output) = (
        ctx.input(0)?,
        ctx.input(1)?,
        ctx.opt_input(2)?,
        ctx.output()?,
    );
    ctx.require(&input, INT8)?;
    ctx.require(&filter, INT8)?;
    ctx.require(&output, INT8)?;
    let f = if depthwise {
        Fields {
            stride_w: 1,
            stride_h: 2,
            act: 4,
            dil_w: 5,
            dil_h: 6,
        }
    } else {
        Fields {
            stride_w: 1,
            stride_h: 2,
            act: 3,
            dil_w: 4,
            dil_h: 5,
        }
    };
    let [n, ih, iw, ic] = input.dims4().ok_or(ctx.bad())?;
    let [on, oh, ow, oc] = output.dims4().ok_or(ctx.bad())?;
    if filter.rank != 4 || input.rank != 4 || filter.data.is_none() {
        return Err(ctx.bad());
    }
    let [fo, kh, kw, fi] = [
        filter.dims[0],
        filter.dims[1],
        filter.dims[2],
        filter.dims[3],
    ];
    let depth_multiplier = if depthwise {
        if fo != 1 || fi != oc || ic == 0 || oc % ic != 0 {
            return Err(ctx.bad());
        }
        oc / ic
    } else {
        if fo != oc || fi != ic {
            return Err(ctx.bad());
        }
        1
    };
    check_bias(ctx, &bias, dim(oc)?, INT32)?;
    let same = ctx.opt_i8(0, 0)? == 0;
    let (sw, sh) = (ctx.opt_i32(f.stride_w, 1)?, ctx.opt_i32(f.stride_h, 1)?);
    let (dw, dh) = (ctx.opt_i32(f.dil_w, 1)?, ctx.opt_i32(f.dil_h, 1)?);
    let (eh, ph) = out_size_and_pad(same, ih, kh, sh, dh).ok_or(ctx.bad())?;
    let (ew, pw) = out_size_and_pad(same, iw, kw, sw, dw).ok_or(ctx.bad())?;
    if on != n || eh != oh || ew != ow {
        return Err(ctx.bad());
    }
    let (act_min, act_max) =
        activation_range_i8(ctx.opt_i8(f.act, 0)?, output.scale, output.zero_point)
            .ok_or(ctx.bad())?;
    let p = ConvParams {
        batches: n,
        in_h: ih,
        in_w: iw,
        in_c: ic,
        out_h: oh,
        out_w: ow,
        out_c: oc,
        k_h: kh,
        k_w: kw,
        stride_h: sh,
        stride_w: sw,
        dil_h: dh,
        dil_w: dw,
        pad_h: ph,
        pad_w: pw,
        input_offset: -input.zero_point,
        output_offset: output.zero_point,
        act_min,
        act_max,
        depth_multiplier,
    };
    p.write(w)?;
    write_channel_multipliers(ctx, w, &input, &filter, &output, dim(oc)?)?;
    let per_output = if depthwise { kh * kw } else { kh * kw * ic };
    Ok(output.elems as u64 * dim(per_output)? as u64)
}

/// Validates a CONV_2D and writes its parameters; returns MACs.
pub(crate) fn prepare_conv(ctx: &OpCtx<'_, '_>, w: &mut Writer<'_>) -> Result<u64> {
    prepare(ctx, w, false)
}

/// Validates a DEPTHWISE_CONV_2D and writes its parameters; returns MACs.
pub(crate) fn prepare_depthwise(ctx: &OpCtx<'_, '_>, w: &mut Writer<'_>) -> Result<u64> {
    prepare(ctx, w, true)
}

/// Input row/column of a filter tap, or `None` when it falls into the padding.
#[inline(always)]
fn tap(origin: i32, k: i32, dilation: i32, size: i32) -> Option<usize> {
    let v = origin + k * dilation;
    if v >= 0 && v < size {
        Some(v as usize)
    } else {
        None
    }
}

/// Runs CONV_2D: the blocked matrix product of [`super::im2col`] with the scratch
/// the planner reserved for this operator.
pub(crate) fn eval_conv(
    r: &mut Reader<'_>,
    inputs: &[&[u8]],
    output: &mut [u8],
    scratch: &mut [u8],
) -> Result<()> {
    let p = ConvParams::read(r)?;
    let q = ChannelQuant::read(r)?;
    let input = as_i8(crate::ops::first(inputs)?);
    let filter = as_i8(inputs.get(1).copied().unwrap_or(&[]));
    let bias = inputs.get(2).copied().unwrap_or(&[]);
    super::im2col::conv(&p, &q, input, filter, bias, as_i8_mut(output), scratch)
}

/// Channels accumulated at once by the depthwise kernel.
const CHUNK: usize = 64;

/// Runs DEPTHWISE_CONV_2D.
///
/// Taps are the outer loop and a chunk of up to 64 output channels the inner one, so
/// the tap bookkeeping is paid once per chunk; with depth multiplier 1 the channels go
/// four at a time through [`mac4_offset`] (SMLABB/SMLATT on Cortex-M4).
pub(crate) fn eval_depthwise(
    r: &mut Reader<'_>,
    inputs: &[&[u8]],
    output: &mut [u8],
) -> Result<()> {
    let p = ConvParams::read(r)?;
    let c = p.out_c as usize;
    let q = ChannelQuant::read(r)?;
    let input = as_i8(crate::ops::first(inputs)?);
    let filter = as_i8(inputs.get(1).copied().unwrap_or(&[]));
    let bias = inputs.get(2).copied().unwrap_or(&[]);
    let out = as_i8_mut(output);
    let (ic, ih, iw) = (p.in_c as usize, p.in_h, p.in_w);
    let dm = p.depth_multiplier.max(1) as usize;
    // Chunks hold whole groups of `dm` output channels that share one input channel.
    let step = if dm <= CHUNK { CHUNK / dm * dm } else { 1 };
    let bad = || crate::Error::Malformed("depthwise bounds");
    let mut acc = [0i32; CHUNK];
    let mut o = 0usize;
    for b in 0..p.batches as usize {
        let in_batch = b * (ih * iw) as usize;
        for oy in 0..p.out_h {
            let y0 = oy * p.stride_h - p.pad_h;
            for ox in 0..p.out_w {
                let x0 = ox * p.stride_w - p.pad_w;
                let mut c0 = 0;
                while c0 < c {
                    let n = step.min(c - c0);
                    acc[..n].fill(0);
                    for ky in 0..p.k_h {
                        let Some(iy) = tap(y0, ky, p.dil_h, ih) else {
                            continue;
                        };
                        for kx in 0..p.k_w {
                            let Some(ix) = tap(x0, kx, p.dil_w, iw) else {
                                continue;
                            };
                            let xbase = (in_batch + iy * iw as usize + ix) * ic;
                            let fbase = (ky as usize * p.k_w as usize + kx as usize) * c + c0;
                            let xs = input.get(xbase..xbase + ic).ok_or_else(bad)?;
                            let fs = filter.get(fbase..fbase + n).ok_or_else(bad)?;
                            if dm == 1 {
                                let xs = xs.get(c0..c0 + n).ok_or_else(bad)?;
                                let ((a4, ar), (x4, xr), (f4, fr)) = (
                                    acc[..n].as_chunks_mut::<4>(),
                                    xs.as_chunks::<4>(),
                                    fs.as_chunks::<4>(),
                                );
                                for ((a, xv), fv) in a4.iter_mut().zip(x4).zip(f4) {
                                    mac4_offset(a, xv, fv, p.input_offset);
                                }
                                for ((a, &xv), &fv) in ar.iter_mut().zip(xr).zip(fr) {
                                    *a = a.wrapping_add(
                                        (i32::from(xv) + p.input_offset) * i32::from(fv),
                                    );
                                }
                            } else if dm <= CHUNK {
                                let first = c0 / dm;
                                for (g, (ag, fg)) in
                                    acc[..n].chunks_mut(dm).zip(fs.chunks(dm)).enumerate()
                                {
                                    let xv = i32::from(*xs.get(first + g).ok_or_else(bad)?)
                                        + p.input_offset;
                                    for (a, &fv) in ag.iter_mut().zip(fg) {
                                        *a = a.wrapping_add(xv * i32::from(fv));
                                    }
                                }
                            } else {
                                let xv =
                                    i32::from(*xs.get(c0 / dm).ok_or_else(bad)?) + p.input_offset;
                                acc[0] = acc[0].wrapping_add(xv * i32::from(fs[0]));
                            }
                        }
                    }
                    for (k, a) in acc[..n].iter().enumerate() {
                        let v = a.wrapping_add(read_i32(bias, c0 + k));
                        if let Some(slot) = out.get_mut(o) {
                            *slot = q.requantize(v, c0 + k, p.output_offset, p.act_min, p.act_max);
                        }
                        o += 1;
                    }
                    c0 += n;
                }
            }
        }
    }
    Ok(())
}
