//! CONV_2D as a blocked matrix product (im2col).
//!
//! Four output pixels at a time, the receptive field of each pixel (`k_h * k_w *
//! in_c` values in filter order) is gathered into arena scratch, with the input
//! offset added and widened to int16 pairs once ([`widen4`]). Every output channel
//! then runs one [`quad_dot`] over that block: each weight word is loaded and widened
//! once and feeds four pixels. Padding taps hold the input zero point, which becomes
//! exactly 0 after the offset, so they add nothing to the accumulators.

use super::conv::{ConvParams, Operands};
use super::data::{Op, as_i8_mut, read_i32};
use super::dot::{quad_dot, quad_dot_portable, widen4};
use super::requant::{ChannelQuant, Requant};
use crate::error::{Error, Result};

/// Output pixels per block.
const PIXELS: usize = 4;

/// Words per chunk of four reduction values (two per pixel).
const CHUNK_WORDS: usize = 2 * PIXELS;

/// Scratch bytes for a receptive field of `k` values: one block of [`PIXELS`]
/// pixels, `ceil(k / 4)` chunks of [`CHUNK_WORDS`] words, plus 3 bytes so the words
/// can be aligned inside any arena offset.
pub(crate) fn scratch_bytes(k: usize) -> Option<usize> {
    k.div_ceil(4).checked_mul(4 * CHUNK_WORDS)?.checked_add(3)
}

/// Writes one pixel's receptive field into its lanes of the block, four values at
/// a time.
struct Lane<'w> {
    words: &'w mut [u32],
    lane: usize,
    chunk: usize,
    pending: [i8; 4],
    filled: usize,
    offset: i32,
}

impl Lane<'_> {
    #[inline(always)]
    fn store(&mut self, v: &[i8; 4]) {
        let (a, b) = widen4(v, self.offset);
        let i = self.chunk * CHUNK_WORDS + 2 * self.lane;
        if let Some(d) = self.words.get_mut(i..i + 2) {
            d[0] = a;
            d[1] = b;
        }
        self.chunk += 1;
    }

    #[inline(always)]
    fn push(&mut self, v: i8) {
        self.pending[self.filled] = v;
        self.filled += 1;
        if self.filled == 4 {
            let p = self.pending;
            self.store(&p);
            self.filled = 0;
        }
    }

    /// Appends a run of input values.
    fn extend(&mut self, mut s: &[i8]) {
        while self.filled != 0 {
            let Some((&v, rest)) = s.split_first() else {
                return;
            };
            self.push(v);
            s = rest;
        }
        let (quads, rest) = s.as_chunks::<4>();
        for q in quads {
            self.store(q);
        }
        for &v in rest {
            self.push(v);
        }
    }

    /// Appends `n` copies of `v` (padding), through [`Self::extend`].
    fn fill(&mut self, v: i8, mut n: usize) {
        let run = [v; 16];
        while n > 0 {
            let k = n.min(run.len());
            self.extend(&run[..k]);
            n -= k;
        }
    }
}

/// Gathers the receptive field of output pixel `pixel` into lane `lane`.
fn gather(
    p: &ConvParams,
    input: &[i8],
    pixel: usize,
    lane: usize,
    words: &mut [u32],
) -> Result<()> {
    let bad = || Error::Malformed("conv bounds");
    let (ow, oh) = (p.out_w as usize, p.out_h as usize);
    let (ic, iw, ih) = (p.in_c as usize, p.in_w, p.in_h);
    let (b, rem) = (pixel / (ow * oh), pixel % (ow * oh));
    let (oy, ox) = ((rem / ow) as i32, (rem % ow) as i32);
    let (y0, x0) = (oy * p.stride_h - p.pad_h, ox * p.stride_w - p.pad_w);
    let zero_point = (-p.input_offset) as i8;
    let mut l = Lane {
        words,
        lane,
        chunk: 0,
        pending: [zero_point; 4],
        filled: 0,
        offset: p.input_offset,
    };
    let in_batch = b * (ih * iw) as usize;
    for ky in 0..p.k_h {
        let iy = y0 + ky * p.dil_h;
        if iy < 0 || iy >= ih {
            l.fill(zero_point, p.k_w as usize * ic);
            continue;
        }
        if p.dil_w == 1 && x0 >= 0 && x0 + p.k_w <= iw {
            // The whole filter row is one contiguous run of the input.
            let xi = (in_batch + iy as usize * iw as usize + x0 as usize) * ic;
            l.extend(input.get(xi..xi + p.k_w as usize * ic).ok_or_else(bad)?);
            continue;
        }
        for kx in 0..p.k_w {
            let ix = x0 + kx * p.dil_w;
            if ix < 0 || ix >= iw {
                l.fill(zero_point, ic);
            } else {
                let xi = (in_batch + iy as usize * iw as usize + ix as usize) * ic;
                l.extend(input.get(xi..xi + ic).ok_or_else(bad)?);
            }
        }
    }
    if l.filled != 0 {
        l.fill(zero_point, 4 - l.filled);
    }
    Ok(())
}

/// One output channel of a gathered block: the bias `b` plus the four pixels' dot
/// products of the widened block (`body`, then the `tail` words of a last partial
/// chunk) with the filter row `w`.
#[inline(always)]
fn block_dot(body: &[u32], tail: &[u32], w: &[i8], b: i32) -> [i32; 4] {
    let (wb, wt) = w.split_at(body.len() / CHUNK_WORDS * 4);
    let acc = quad_dot(body, wb, [b, b, b, b]);
    if wt.is_empty() {
        return acc;
    }
    let mut last = [0i8; 4];
    last[..wt.len()].copy_from_slice(wt);
    quad_dot_portable(tail, &last, acc)
}

/// Output channels `oc0..oc0 + n` of one gathered block: `dst` holds the four
/// pixels' rows of `n` channels each, `filter` those channels' `n` rows of `k`
/// values.
#[inline(never)]
fn block(
    p: &ConvParams,
    q: &ChannelQuant<'_>,
    words: &[u32],
    filter: &[i8],
    bias: &[u8],
    oc0: usize,
    dst: &mut [i8],
) {
    let n = dst.len() / PIXELS;
    let k = (p.k_h * p.k_w * p.in_c) as usize;
    let full = k / 4;
    let (body, tail) = words.split_at(full * CHUNK_WORDS);
    let rows = filter.chunks_exact(k);
    let requant = |oc: usize| Requant::new(q.channel(oc), p.output_offset, p.act_min, p.act_max);
    // The four pixels' output rows, zipped with the filter rows so that the stores
    // need no bounds checks.
    let (d0, rest) = dst.split_at_mut(n);
    let (d1, rest) = rest.split_at_mut(n);
    let (d2, d3) = rest.split_at_mut(n);
    let outs = d0.iter_mut().zip(d1).zip(d2).zip(d3);
    for (i, (w, (((o0, o1), o2), o3))) in rows.zip(outs).enumerate() {
        let oc = oc0 + i;
        let [a0, a1, a2, a3] = block_dot(body, tail, w, read_i32(bias, oc));
        let rq = requant(oc);
        (*o0, *o1, *o2, *o3) = (rq.apply(a0), rq.apply(a1), rq.apply(a2), rq.apply(a3));
    }
}

/// Output channels per pass of a short last block (its rows go through a buffer).
const SHORT_CHANNELS: usize = 32;

/// Runs CONV_2D: the blocked matrix product with the scratch the planner reserved
/// for this operator (at least [`scratch_bytes`] of the receptive field) holding
/// the widened input block.
pub(crate) fn eval(op: Op<'_>) -> Result<()> {
    Operands::run(op, run)
}

/// [`eval`] once the operands are read.
fn run(o: &Operands<'_>, out: &mut [u8], scratch: &mut [u8]) -> Result<()> {
    let (p, input, out) = (&o.p, o.input, as_i8_mut(out));
    let bad = || Error::Malformed("conv bounds");
    let c = p.out_c as usize;
    let k = (p.k_h * p.k_w * p.in_c) as usize;
    let chunks = k.div_ceil(4);
    // SAFETY: every bit pattern is a valid `u32`; `align_to_mut` only reinterprets
    // the aligned middle of the byte slice.
    let (_, words, _) = unsafe { scratch.align_to_mut::<u32>() };
    let words = words.get_mut(..chunks * CHUNK_WORDS).ok_or_else(bad)?;
    let pixels = (p.batches * p.out_h * p.out_w) as usize;
    let mut px = 0;
    while px < pixels {
        let valid = (pixels - px).min(PIXELS);
        for lane in 0..PIXELS {
            // A short last block repeats its last pixel; those results are dropped.
            gather(p, input, px + lane.min(valid - 1), lane, words)?;
        }
        let dst = out.get_mut(px * c..(px + valid) * c).ok_or_else(bad)?;
        let filter = o.filter.get(..c * k).ok_or_else(bad)?;
        if valid == PIXELS {
            block(p, &o.q, words, filter, o.bias, 0, dst);
        } else {
            // A short block: its channels a few at a time into a buffer of four
            // rows, then the valid pixels' rows into place.
            let mut buf = [0i8; PIXELS * SHORT_CHANNELS];
            let mut oc0 = 0;
            while oc0 < c {
                let n = (c - oc0).min(SHORT_CHANNELS);
                let rows = buf.get_mut(..PIXELS * n).ok_or_else(bad)?;
                let f = filter.get(oc0 * k..(oc0 + n) * k).ok_or_else(bad)?;
                block(p, &o.q, words, f, o.bias, oc0, rows);
                for j in 0..valid {
                    let (d, r) = (j * c + oc0, j * n);
                    let (Some(d), Some(r)) = (dst.get_mut(d..d + n), rows.get(r..r + n)) else {
                        return Err(bad());
                    };
                    d.copy_from_slice(r);
                }
                oc0 += n;
            }
        }
        px += PIXELS;
    }
    Ok(())
}
