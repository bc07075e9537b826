//! Operator kernels: prepare (validation + integer parameters) and eval for each op.

pub(crate) mod activation;
pub(crate) mod conv;
pub(crate) mod depthwise;
pub mod dot;
pub(crate) mod elementwise;
pub(crate) mod fully_connected;
pub(crate) mod im2col;
pub(crate) mod mean;
pub(crate) mod pool;
pub(crate) mod quantize;
pub(crate) mod shape;

use crate::error::{Error, Result};
use crate::ops::OpCtx;
use crate::quant::quantize_multiplier;
use crate::record::{Reader, Words, Writer};
use crate::tensor::TensorInfo;

/// Reads little-endian `i32` element `i` of a constant (bias) tensor; 0 when absent.
#[inline(always)]
pub(crate) fn read_i32(bytes: &[u8], i: usize) -> i32 {
    match bytes.get(4 * i..4 * i + 4) {
        Some(b) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// Reads little-endian `f32` element `i`; 0.0 when absent.
#[inline(always)]
pub(crate) fn read_f32(bytes: &[u8], i: usize) -> f32 {
    f32::from_bits(read_i32(bytes, i) as u32)
}

/// Output multipliers and shifts: one pair per channel, or one shared pair.
#[derive(Clone, Copy)]
pub(crate) struct ChannelQuant<'b> {
    mult: Words<'b>,
    shift: Words<'b>,
    per_channel: bool,
}

impl<'b> ChannelQuant<'b> {
    /// Reads the `count, multipliers.., shifts..` block written by
    /// [`write_channel_multipliers`] or [`write_shared_multiplier`].
    pub(crate) fn read(r: &mut Reader<'b>) -> Result<Self> {
        let n = usize::try_from(r.word()?).map_err(|_| Error::Malformed("record"))?;
        Ok(ChannelQuant {
            mult: r.words(n)?,
            shift: r.words(n)?,
            per_channel: n > 1,
        })
    }

    /// Whether each channel has its own multiplier.
    #[inline(always)]
    pub(crate) fn per_channel(&self) -> bool {
        self.per_channel
    }

    /// Channel `c`'s `(multiplier, shift)`, for [`Requant::new`].
    #[inline(always)]
    pub(crate) fn channel(&self, c: usize) -> (i32, i32) {
        let c = if self.per_channel { c } else { 0 };
        (self.mult.get(c), self.shift.get(c))
    }
}

/// One output channel's requantization with everything that depends only on the
/// channel worked out once: TFLite's `MultiplyByQuantizedMultiplier` (as
/// [`mbqm`](crate::fixedpoint::mbqm)), then the output offset and the activation clamp, bit for bit.
#[derive(Clone, Copy)]
pub(crate) struct Requant {
    mult: i32,
    left: i32,
    right: u32,
    mask: i32,
    half: i32,
    out_offset: i32,
    lo: i32,
    hi: i32,
}

impl Requant {
    /// The requantization of a `(multiplier, shift)` pair from [`ChannelQuant::channel`].
    #[inline(always)]
    pub(crate) fn new((mult, shift): (i32, i32), out_offset: i32, lo: i32, hi: i32) -> Self {
        let right = if shift > 0 { 0 } else { shift.wrapping_neg() } as u32;
        // As in `fixedpoint::rdbpot`, including its wrapping for hostile shifts.
        let mask = 1i64.wrapping_shl(right).wrapping_sub(1) as i32;
        Requant {
            mult,
            left: 1i32.wrapping_shl(if shift > 0 { shift as u32 } else { 0 }),
            right,
            mask,
            half: mask >> 1,
            out_offset,
            lo,
            hi,
        }
    }

    /// Requantizes an accumulator and clamps it to int8.
    #[inline(always)]
    pub(crate) fn apply(&self, acc: i32) -> i8 {
        let x = crate::fixedpoint::srdhm(acc.wrapping_mul(self.left), self.mult);
        let remainder = x & self.mask;
        let threshold = self.half.wrapping_add(i32::from(x < 0));
        let v = x
            .wrapping_shr(self.right)
            .wrapping_add(i32::from(remainder > threshold));
        v.wrapping_add(self.out_offset).max(self.lo).min(self.hi) as i8
    }
}

/// Writes one multiplier/shift pair shared by every channel.
pub(crate) fn write_shared_multiplier(w: &mut Writer<'_>, real: f64) -> Result<()> {
    let (m, s) = quantize_multiplier(real);
    w.push(1)?;
    w.push(m)?;
    w.push(s)
}

/// Writes per-channel multipliers then shifts for `channels` output channels, the
/// way TFLM's `PopulateConvolutionQuantizationParams` computes them:
/// `double(input_scale) * double(filter_scale[c]) / double(output_scale)`.
pub(crate) fn write_channel_multipliers(
    ctx: &OpCtx<'_, '_>,
    w: &mut Writer<'_>,
    input: &TensorInfo<'_>,
    filter: &TensorInfo<'_>,
    output: &TensorInfo<'_>,
    channels: usize,
) -> Result<()> {
    let n = filter.scale_count();
    if n != 1 && n != channels {
        return Err(ctx.bad());
    }
    if let Some(q) = &filter.quant {
        for i in 0..q.zero_points.len() {
            if q.zero_points.get(i)? != 0 && n > 1 {
                return Err(ctx.bad());
            }
        }
    }
    let count = if n > 1 { channels } else { 1 };
    w.push(count as i32)?;
    let mut pairs = |shifts: bool| -> Result<()> {
        for c in 0..count {
            let fs = filter.channel_scale(c)?;
            let eff = f64::from(input.scale) * f64::from(fs) / f64::from(output.scale);
            let (m, s) = quantize_multiplier(eff);
            w.push(if shifts { s } else { m })?;
        }
        Ok(())
    };
    pairs(false)?;
    pairs(true)
}

/// Checks that an optional bias is int32 with `channels` elements.
pub(crate) fn check_bias(
    ctx: &OpCtx<'_, '_>,
    bias: &Option<TensorInfo<'_>>,
    channels: usize,
    ty: i8,
) -> Result<()> {
    if let Some(b) = bias {
        ctx.require(b, ty)?;
        if b.elems != channels || b.data.is_none() {
            return Err(ctx.bad());
        }
    }
    Ok(())
}

/// Converts a shape value to `usize`, treating negatives as malformed.
pub(crate) fn dim(v: i32) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::Malformed("negative dimension"))
}

/// Output size and padding for one spatial axis (TFLite `ComputeOutSize` and
/// `ComputePaddingWithOffset`); `same` selects SAME padding.
pub(crate) fn out_size_and_pad(
    same: bool,
    input: i32,
    filter: i32,
    stride: i32,
    dilation: i32,
) -> Option<(i32, i32)> {
    const LIMIT: i32 = 1 << 20;
    if !(1..LIMIT).contains(&stride)
        || !(1..LIMIT).contains(&dilation)
        || !(1..LIMIT).contains(&filter)
    {
        return None;
    }
    if !(0..LIMIT).contains(&input) {
        return None;
    }
    let effective = (filter - 1).checked_mul(dilation)?.checked_add(1)?;
    if effective >= LIMIT {
        return None;
    }
    let out = if same {
        input.checked_add(stride - 1)? / stride
    } else {
        let v = input.checked_add(stride)?.checked_sub(effective)?;
        if v < 0 { 0 } else { v / stride }
    };
    let total = ((out - 1).max(0) * stride + effective - input).max(0);
    Some((out, total / 2))
}

#[cfg(test)]
mod tests {
    use super::Requant;
    use crate::fixedpoint::mbqm;

    /// The reference: TFLite's requantization written with the shared helpers.
    fn reference(acc: i32, m: i32, s: i32, off: i32, lo: i32, hi: i32) -> i8 {
        mbqm(acc, m, s).wrapping_add(off).max(lo).min(hi) as i8
    }

    #[test]
    fn requant_matches_mbqm() {
        let mut state = 0x2545_f491_u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as i32
        };
        let shifts = [-40, -33, -32, -31, -20, -8, -1, 0, 1, 2, 7, 30, 31, 33];
        let mults = [i32::MIN, -(1 << 30), 0, 1, 1 << 30, 0x5a5a_5a5a, i32::MAX];
        for _ in 0..20_000 {
            let acc = match next() & 3 {
                0 => next(),
                1 => next() >> 12,
                2 => [i32::MIN, i32::MAX, 0, -1, 1][(next() & 3) as usize],
                _ => next() >> 20,
            };
            let m = if next() & 1 == 0 {
                mults[(next() as u32 % mults.len() as u32) as usize]
            } else {
                (next() & 0x3fff_ffff) | 0x4000_0000
            };
            let s = shifts[(next() as u32 % shifts.len() as u32) as usize];
            let off = next() % 129;
            let (lo, hi) = if next() & 1 == 0 {
                (-128, 127)
            } else {
                (-100, 90)
            };
            let got = Requant::new((m, s), off, lo, hi).apply(acc);
            assert_eq!(
                got,
                reference(acc, m, s, off, lo, hi),
                "{acc} {m} {s} {off}"
            );
        }
    }
}
