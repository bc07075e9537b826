//! QUANTIZE (float32 → int8, int8 → int8) and DEQUANTIZE (int8 → float32), as TFLM's
//! `reference_ops::AffineQuantize`, `Requantize` and `Dequantize`.

use super::data::{Op, as_i8, as_i8_mut, read_f32};
use super::prepare::OpCtx;
use crate::error::{Load, Result};
use crate::fixedpoint::mbqm;
use crate::quant::{quantize_i32, quantize_multiplier};
use crate::record::{Writer, params};
use crate::schema::tensor_type::{FLOAT32, INT8};

params!(
    /// Quantization parameters of QUANTIZE/DEQUANTIZE.
    QuantizeParams { from_float, scale_bits, zero_point, input_zero_point, multiplier, shift }
);

/// Validates QUANTIZE and writes its parameters.
pub(crate) fn prepare_quantize(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    ctx.input_count(1..=1)?;
    let (input, output) = ctx.unary()?;
    ctx.require(output, INT8)?;
    let mut p = QuantizeParams {
        scale_bits: output.scale.to_bits() as i32,
        zero_point: output.zero_point,
        ..QuantizeParams::default()
    };
    match input.ty {
        FLOAT32 => p.from_float = 1,
        INT8 => {
            p.input_zero_point = input.zero_point;
            (p.multiplier, p.shift) = quantize_multiplier(input.scale, 1.0, 0, output.scale);
        }
        other => return Err(ctx.unsupported(other)),
    }
    p.write(w)?;
    Ok(0)
}

/// Runs QUANTIZE.
pub(crate) fn eval_quantize(mut op: Op<'_>) -> Result<()> {
    let p = QuantizeParams::read(&mut op.record)?;
    let input = op.first()?;
    let out = as_i8_mut(op.output);
    if p.from_float != 0 {
        let scale = f32::from_bits(p.scale_bits as u32);
        for (i, o) in out.iter_mut().enumerate() {
            *o = quantize_i32(read_f32(input, i), scale, p.zero_point).clamp(-128, 127) as i8;
        }
    } else {
        for (o, &v) in out.iter_mut().zip(as_i8(input)) {
            let x = mbqm(i32::from(v) - p.input_zero_point, p.multiplier, p.shift)
                .wrapping_add(p.zero_point);
            *o = x.clamp(-128, 127) as i8;
        }
    }
    Ok(())
}

/// Validates DEQUANTIZE and writes its parameters.
pub(crate) fn prepare_dequantize(ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
    ctx.input_count(1..=1)?;
    let (input, output) = ctx.unary()?;
    ctx.require(input, INT8)?;
    ctx.require(output, FLOAT32)?;
    QuantizeParams {
        scale_bits: input.scale.to_bits() as i32,
        zero_point: input.zero_point,
        ..QuantizeParams::default()
    }
    .write(w)?;
    Ok(0)
}

/// Runs DEQUANTIZE.
pub(crate) fn eval_dequantize(mut op: Op<'_>) -> Result<()> {
    let p = QuantizeParams::read(&mut op.record)?;
    let scale = f64::from(f32::from_bits(p.scale_bits as u32));
    let input = as_i8(op.first()?);
    for (o, &v) in op.output.chunks_exact_mut(4).zip(input) {
        let f = (scale * f64::from(i32::from(v) - p.zero_point)) as f32;
        o.copy_from_slice(&f.to_le_bytes());
    }
    Ok(())
}
