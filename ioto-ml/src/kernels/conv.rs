//! CONV_2D and DEPTHWISE_CONV_2D preparation (TFLM `ConvPerChannel` /
//! `DepthwiseConvPerChannel` parameters) and the operands both evals read; the evals
//! are [`super::im2col`] and [`super::depthwise`].

use super::data::{Op, as_i8};
use super::prepare::{OpCtx, dim, out_size_and_pad};
use super::requant::ChannelQuant;
use crate::error::{Load, Result};
use crate::quant::activation_range_i8;
use crate::record::{Writer, params};
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

fn prepare(ctx: &OpCtx<'_>, w: &mut Writer<'_>, depthwise: bool) -> Load<u64> {
    let t = ctx.weighted()?;
    let (input, filter, output) = (t.input, t.filter, t.output);
    ctx.require(input, INT8)?;
    ctx.require(filter, INT8)?;
    ctx.require(output, INT8)?;
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
    ctx.check_bias(t.bias, dim(oc)?, INT32)?;
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
    ctx.write_channel_multipliers(w, &t, dim(oc)?)?;
    let per_output = if depthwise { kh * kw } else { kh * kw * ic };
    Ok(output.elems as u64 * dim(per_output)? as u64)
}

/// Validates a CONV_2D and writes its parameters; returns MACs.
pub(crate) fn prepare_conv(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    prepare(ctx, w, false)
}

/// Validates a DEPTHWISE_CONV_2D and writes its parameters; returns MACs.
pub(crate) fn prepare_depthwise(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    prepare(ctx, w, true)
}

/// What a convolution's eval reads: its parameters and requantization from the
/// record, and its input, filter and bias bytes.
pub(crate) struct Operands<'a> {
    /// Shapes and scalar quantization.
    pub(crate) p: ConvParams,
    /// Per-channel requantization.
    pub(crate) q: ChannelQuant<'a>,
    /// The input activations.
    pub(crate) input: &'a [i8],
    /// The filter.
    pub(crate) filter: &'a [i8],
    /// The int32 bias bytes (empty when absent).
    pub(crate) bias: &'a [u8],
}

impl<'a> Operands<'a> {
    /// Reads a convolution's operands and runs `kernel` on them, its output and its
    /// scratch (one copy of the reading for both convolutions).
    #[inline(never)]
    pub(crate) fn run(
        mut op: Op<'a>,
        kernel: fn(&Operands<'_>, &mut [u8], &mut [u8]) -> Result<()>,
    ) -> Result<()> {
        let o = Self::read(&mut op)?;
        kernel(&o, op.output, op.scratch)
    }

    /// Reads a convolution's parameters and operands.
    #[inline(never)]
    pub(crate) fn read(op: &mut Op<'a>) -> Result<Self> {
        Ok(Operands {
            p: ConvParams::read(&mut op.record)?,
            q: ChannelQuant::read(&mut op.record)?,
            input: as_i8(op.first()?),
            filter: as_i8(op.input(1)),
            bias: op.input(2),
        })
    }
}
