//! CONV_2D and DEPTHWISE_CONV_2D, int8 with per-channel requantization
//! (TFLM `reference_integer_ops::ConvPerChannel` / `DepthwiseConvPerChannel`).

use super::{ChannelQuant, check_bias, dim, out_size_and_pad, read_i32, write_channel_multipliers};
use crate::error::Result;
use crate::kernels::dot::{dot_offset, dot2_offset, dot2x2_offset, mac4_offset};
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

/// Row `i` of `n` elements.
fn row(s: &[i8], i: usize, n: usize) -> Result<&[i8]> {
    s.get(i * n..(i + 1) * n)
        .ok_or(crate::Error::Malformed("conv bounds"))
}

/// 1×1, stride-1, unpadded CONV_2D: a matrix product over pixels, computed in 2×2
/// blocks (two pixels × two output channels) so each widened word is used twice.
fn pointwise(
    p: &ConvParams,
    q: &ChannelQuant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[u8],
    out: &mut [i8],
) -> Result<()> {
    let (ic, c) = (p.in_c as usize, p.out_c as usize);
    let pixels = (p.batches * p.in_h * p.in_w) as usize;
    let bad = || crate::Error::Malformed("conv bounds");
    let mut px = 0;
    while px < pixels {
        let two_px = px + 1 < pixels;
        let x0 = row(input, px, ic)?;
        let x1 = if two_px { row(input, px + 1, ic)? } else { x0 };
        let mut oc = 0;
        while oc < c {
            let two_oc = oc + 1 < c;
            let w0 = row(filter, oc, ic)?;
            let w1 = if two_oc { row(filter, oc + 1, ic)? } else { w0 };
            let acc = dot2x2_offset(x0, x1, w0, w1, p.input_offset);
            // acc = [px·oc, px·oc+1, px+1·oc, px+1·oc+1]
            for (k, &a) in acc.iter().enumerate() {
                let (dp, dc) = (k / 2, k % 2);
                if (dp == 1 && !two_px) || (dc == 1 && !two_oc) {
                    continue;
                }
                let ch = oc + dc;
                let v = a.wrapping_add(read_i32(bias, ch));
                let slot = out.get_mut((px + dp) * c + ch).ok_or_else(bad)?;
                *slot = q.requantize(v, ch, p.output_offset, p.act_min, p.act_max);
            }
            oc += 2;
        }
        px += 2;
    }
    Ok(())
}

/// Largest receptive field (`k_h * k_w * in_c`) gathered on the stack for im2col.
const IM2COL: usize = 512;

/// Runs CONV_2D.
///
/// Per output pixel, the valid filter taps of one filter row are contiguous in both
/// the input and the filter (when the width dilation is 1), so each row is one dot
/// product; output channels go in pairs so each input word is widened once.
pub(crate) fn eval_conv(r: &mut Reader<'_>, inputs: &[&[u8]], output: &mut [u8]) -> Result<()> {
    let p = ConvParams::read(r)?;
    let c = p.out_c as usize;
    let q = ChannelQuant::read(r)?;
    let input = as_i8(crate::ops::first(inputs)?);
    let filter = as_i8(inputs.get(1).copied().unwrap_or(&[]));
    let bias = inputs.get(2).copied().unwrap_or(&[]);
    let out = as_i8_mut(output);
    let (ic, ih, iw) = (p.in_c as usize, p.in_h, p.in_w);
    let (kh, kw) = (p.k_h as usize, p.k_w as usize);
    let filter_len = kh * kw * ic;
    let bad = || crate::Error::Malformed("conv bounds");
    // im2col: small receptive fields are gathered into one contiguous patch, padded
    // with the input zero point (which contributes exactly 0 to the accumulator).
    let use_patch = kh * kw > 1 && filter_len <= IM2COL;
    let mut patch = [0i8; IM2COL];
    let zero_point = (-p.input_offset) as i8;
    let mut o = 0usize;
    if kh == 1 && kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0 {
        return pointwise(&p, &q, input, filter, bias, out);
    }
    for b in 0..p.batches as usize {
        let in_batch = b * (ih * iw) as usize;
        for oy in 0..p.out_h {
            let y0 = oy * p.stride_h - p.pad_h;
            for ox in 0..p.out_w {
                let x0 = ox * p.stride_w - p.pad_w;
                if use_patch {
                    for ky in 0..kh {
                        let iy = tap(y0, ky as i32, p.dil_h, ih);
                        for kx in 0..kw {
                            let dst = patch
                                .get_mut((ky * kw + kx) * ic..(ky * kw + kx + 1) * ic)
                                .ok_or_else(bad)?;
                            match (iy, tap(x0, kx as i32, p.dil_w, iw)) {
                                (Some(iy), Some(ix)) => {
                                    let xi = (in_batch + iy * iw as usize + ix) * ic;
                                    dst.copy_from_slice(input.get(xi..xi + ic).ok_or_else(bad)?);
                                }
                                _ => dst.fill(zero_point),
                            }
                        }
                    }
                    let x = &patch[..filter_len];
                    let mut oc = 0;
                    while oc < c {
                        let f0 = filter
                            .get(oc * filter_len..(oc + 1) * filter_len)
                            .ok_or_else(bad)?;
                        let pair = oc + 1 < c;
                        let (a0, a1) = if pair {
                            let f1 = filter
                                .get((oc + 1) * filter_len..(oc + 2) * filter_len)
                                .ok_or_else(bad)?;
                            dot2_offset(x, f0, f1, p.input_offset)
                        } else {
                            (dot_offset(x, f0, p.input_offset), 0)
                        };
                        let n = if pair { 2 } else { 1 };
                        for (k, acc) in [a0, a1].into_iter().take(n).enumerate() {
                            let v = acc.wrapping_add(read_i32(bias, oc + k));
                            if let Some(slot) = out.get_mut(o) {
                                *slot =
                                    q.requantize(v, oc + k, p.output_offset, p.act_min, p.act_max);
                            }
                            o += 1;
                        }
                        oc += n;
                    }
                    continue;
                }
                // Contiguous run of taps along a filter row (width dilation 1 only).
                let run = if p.dil_w == 1 {
                    let lo = (-x0).max(0) as usize;
                    let hi = (iw - x0).min(p.k_w).max(0) as usize;
                    Some((lo, hi.max(lo)))
                } else {
                    None
                };
                let row_slices = |ky: usize, iy: usize, oc: usize, lo: usize, hi: usize| {
                    let xi = (in_batch + iy * iw as usize + (x0 as usize).wrapping_add(lo)) * ic;
                    let fi = oc * filter_len + (ky * kw + lo) * ic;
                    let span = (hi - lo) * ic;
                    (xi, fi, span)
                };
                let mut oc = 0;
                while oc < c {
                    let pair = oc + 1 < c;
                    let (mut a0, mut a1) = (0i32, 0i32);
                    for ky in 0..kh {
                        let Some(iy) = tap(y0, ky as i32, p.dil_h, ih) else {
                            continue;
                        };
                        match run {
                            Some((lo, hi)) => {
                                if hi == lo {
                                    continue;
                                }
                                let (xi, fi, span) = row_slices(ky, iy, oc, lo, hi);
                                let xs = input.get(xi..xi + span).ok_or_else(bad)?;
                                let f0 = filter.get(fi..fi + span).ok_or_else(bad)?;
                                if pair {
                                    let f1 = filter
                                        .get(fi + filter_len..fi + filter_len + span)
                                        .ok_or_else(bad)?;
                                    let (d0, d1) = dot2_offset(xs, f0, f1, p.input_offset);
                                    a0 = a0.wrapping_add(d0);
                                    a1 = a1.wrapping_add(d1);
                                } else {
                                    a0 = a0.wrapping_add(dot_offset(xs, f0, p.input_offset));
                                }
                            }
                            None => {
                                for kx in 0..kw {
                                    let Some(ix) = tap(x0, kx as i32, p.dil_w, iw) else {
                                        continue;
                                    };
                                    let xi = (in_batch + iy * iw as usize + ix) * ic;
                                    let fi = oc * filter_len + (ky * kw + kx) * ic;
                                    let xs = input.get(xi..xi + ic).ok_or_else(bad)?;
                                    let f0 = filter.get(fi..fi + ic).ok_or_else(bad)?;
                                    a0 = a0.wrapping_add(dot_offset(xs, f0, p.input_offset));
                                    if pair {
                                        let f1 = filter
                                            .get(fi + filter_len..fi + filter_len + ic)
                                            .ok_or_else(bad)?;
                                        a1 = a1.wrapping_add(dot_offset(xs, f1, p.input_offset));
                                    }
                                }
                            }
                        }
                    }
                    let n = if pair { 2 } else { 1 };
                    for (k, acc) in [a0, a1].into_iter().take(n).enumerate() {
                        let v = acc.wrapping_add(read_i32(bias, oc + k));
                        if let Some(slot) = out.get_mut(o) {
                            *slot = q.requantize(v, oc + k, p.output_offset, p.act_min, p.act_max);
                        }
                        o += 1;
                    }
                    oc += n;
                }
            }
        }
    }
    Ok(())
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
