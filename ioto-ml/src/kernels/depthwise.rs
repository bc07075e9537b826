//! DEPTHWISE_CONV_2D, int8 with per-channel requantization (TFLM
//! `reference_integer_ops::DepthwiseConvPerChannel`).
//!
//! Per output pixel the valid taps form one rectangle (`ky` and `kx` ranges), found
//! once. Output channels go four at a time with the accumulators in registers
//! across all taps: with depth multiplier 1 the four input channels are one word
//! (`SMLABB`/`SMLATT` on Cortex-M4); when the depth multiplier is a multiple of 4
//! the four outputs share one input value. Other shapes take a scalar path per
//! channel.

use super::conv::Operands;
use super::data::{Op, as_i8_mut, read_i32};
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
use super::dot::dsp::{Window3x3, taps3x3};
use super::dot::{offset_pair, row4, row4_shared};
use super::requant::Requant;
use crate::error::{Error, Result};

/// The first `k` in `0..n` with `origin + k * dilation >= 0`, and one past the last
/// with `origin + k * dilation < size` (the valid taps along one axis).
fn valid_taps(origin: i32, n: i32, dilation: i32, size: i32) -> (i32, i32) {
    let lo = if origin >= 0 {
        0
    } else {
        (-origin + dilation - 1) / dilation
    };
    let hi = if size - origin <= 0 {
        0
    } else {
        (size - origin + dilation - 1) / dilation
    };
    (lo.min(n), hi.min(n).max(lo.min(n)))
}

/// The range `lo..hi` of output columns whose filter columns all fall inside the
/// input (empty when there are none).
fn interior(p: &super::conv::ConvParams) -> (i32, i32) {
    let span = (p.k_w - 1) * p.dil_w;
    let lo = (p.pad_w + p.stride_w - 1) / p.stride_w;
    let last = p.in_w - 1 - span + p.pad_w;
    let hi = if last < 0 { 0 } else { last / p.stride_w + 1 };
    (lo.min(p.out_w), hi.min(p.out_w).max(lo.min(p.out_w)))
}

/// A run of horizontally adjacent interior pixels: the taps of the first, how many,
/// and the input bytes between neighbours.
struct Run<'t> {
    first: &'t Taps,
    pixels: usize,
    step: usize,
    c0: usize,
    /// The widened 3×3 window of channels `c0..c0 + 4` (Cortex-M4, depth
    /// multiplier 1, 3×3 filter, no horizontal dilation).
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    window: Option<&'t Window3x3>,
}

/// Channels `c0..c0 + 4` of a run of interior pixels (depth multiplier
/// 1, or a multiple of 4 with one shared input channel): the bounds are checked once
/// for the run's last pixel ([`Src::fits`]), then every pixel's taps go through
/// [`Src::row`] and its four results are stored (`dst` starts at the first pixel's
/// channel `c0`). Returns false, having written nothing, when the run does not
/// qualify.
#[inline(never)]
fn interior_run(
    run: &Run<'_>,
    src: &Src<'_>,
    start: &[i32; 4],
    rq: &[Requant; 4],
    dst: &mut [i8],
) -> bool {
    let t = run.first;
    let c = src.g.c;
    if run.pixels == 0 {
        return false;
    }
    // Indices grow with the pixel, the row and the column: the last tap of the last
    // pixel bounds every read, and the last pixel's four outputs every write.
    let Some(xc) = src.fits(t, run.c0, (run.pixels - 1) * run.step) else {
        return false;
    };
    if (run.pixels - 1) * c + 4 > dst.len() {
        return false;
    }
    let off2 = offset_pair(src.off);
    let wbase = src.filter.as_ptr().wrapping_add(t.w + run.c0);
    let mut xbase = src.input.as_ptr().wrapping_add(t.x + xc);
    // The whole 3×3 window inside the input, its weights widened once.
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    let window = run.window.filter(|_| t.rows == 3 && t.cols == 3);
    for d in dst.chunks_mut(c).take(run.pixels) {
        let mut acc = *start;
        #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
        let rows = match window {
            Some(window) => {
                // SAFETY: every tap of this pixel reads within the bounds of the
                // run's last tap, checked by `fits` above (taps `tap_step` bytes
                // apart, rows `x_row` apart).
                unsafe { taps3x3(&mut acc, xbase, window, src.g.tap_step, off2) };
                0
            }
            None => t.rows,
        };
        #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
        let rows = t.rows;
        for r in 0..rows {
            let (xp, wp) = (
                xbase.wrapping_add(r * t.x_row),
                wbase.wrapping_add(r * t.w_row),
            );
            // SAFETY: every tap of this pixel reads within the bounds of the run's
            // last tap, checked by `fits` above.
            unsafe { src.row(&mut acc, xp, wp, t.cols, off2) };
        }
        store4(d, &acc, rq);
        xbase = xbase.wrapping_add(run.step);
    }
    true
}

/// Requantizes four channels' accumulators into the first four bytes of `d`.
#[inline(always)]
fn store4(d: &mut [i8], acc: &[i32; 4], rq: &[Requant; 4]) {
    if let Some(d4) = d.get_mut(..4) {
        d4[0] = rq[0].apply(acc[0]);
        d4[1] = rq[1].apply(acc[1]);
        d4[2] = rq[2].apply(acc[2]);
        d4[3] = rq[3].apply(acc[3]);
    }
}

/// Shape facts that every index of the kernel is checked against once.
struct Geometry {
    ic: usize,
    c: usize,
    dm: usize,
    row: usize,
    tap_step: usize,
}

/// What the taps of one batch read: its input, the filter and the input offset.
struct Src<'a> {
    g: &'a Geometry,
    input: &'a [i8],
    filter: &'a [i8],
    off: i32,
}

/// Runs DEPTHWISE_CONV_2D.
pub(crate) fn eval(op: Op<'_>) -> Result<()> {
    Operands::run(op, run)
}

/// [`eval`] once the operands are read.
fn run(o: &Operands<'_>, out: &mut [u8], _scratch: &mut [u8]) -> Result<()> {
    let (p, input, filter) = (&o.p, o.input, o.filter);
    let out = as_i8_mut(out);
    let bad = Error::Malformed("depthwise bounds");
    let dims = [
        p.batches, p.in_h, p.in_w, p.in_c, p.out_h, p.out_w, p.out_c, p.k_h, p.k_w,
    ];
    if dims.iter().any(|&d| d <= 0) || p.stride_h <= 0 || p.stride_w <= 0 {
        return Err(bad);
    }
    let g = Geometry {
        ic: p.in_c as usize,
        c: p.out_c as usize,
        dm: p.depth_multiplier.max(1) as usize,
        row: (p.in_w * p.in_c) as usize,
        tap_step: (p.dil_w * p.in_c) as usize,
    };
    let (batches, ih, iw) = (p.batches as usize, p.in_h as usize, p.in_w as usize);
    // Every index below stays under these sizes (taps are clipped to the image).
    if input.len() < batches * ih * iw * g.ic
        || filter.len() < (p.k_h * p.k_w) as usize * g.c
        || out.len() < batches * (p.out_h * p.out_w) as usize * g.c
        || g.c != g.ic * g.dm
    {
        return Err(bad);
    }
    let quads = if g.dm == 1 || g.dm.is_multiple_of(4) {
        g.c / 4
    } else {
        0
    };
    for k in 0..quads {
        channels::<4>(o, &g, out, 4 * k);
    }
    for ch in 4 * quads..g.c {
        channels::<1>(o, &g, out, ch);
    }
    Ok(())
}

/// Output channels `c0..c0 + N` of every pixel: requantization and bias are set up
/// once per group; `N` is 4 (depth multiplier 1 or a multiple of 4) or 1.
#[inline(never)]
fn channels<const N: usize>(o: &Operands<'_>, g: &Geometry, out: &mut [i8], c0: usize) {
    let p = &o.p;
    let rq: [Requant; N] =
        core::array::from_fn(|j| o.q.requant(c0 + j, p.output_offset, p.act_min, p.act_max));
    let start: [i32; N] = core::array::from_fn(|j| read_i32(o.bias, c0 + j));
    let (ih, iw) = (p.in_h as usize, p.in_w as usize);
    // Output columns whose every filter column is inside the image.
    let (lo, hi) = interior(p);
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    let window =
        (N == 4 && g.dm == 1 && p.k_h == 3 && p.k_w == 3 && g.tap_step == g.c).then(|| {
            let w: [[i8; 4]; 9] = core::array::from_fn(|k| four(o.filter, k * g.c + c0));
            Window3x3::new(&w, (p.dil_h as usize * g.row).wrapping_sub(3 * g.tap_step))
        });
    let mut at = c0;
    for b in 0..p.batches as usize {
        let src = Src {
            g,
            input: o
                .input
                .get(b * ih * iw * g.ic..(b + 1) * ih * iw * g.ic)
                .unwrap_or(&[]),
            filter: o.filter,
            off: p.input_offset,
        };
        for oy in 0..p.out_h {
            let y0 = oy * p.stride_h - p.pad_h;
            let ky = valid_taps(y0, p.k_h, p.dil_h, p.in_h);
            // Offsets of the first valid tap in the input and the filter.
            let taps_at = |ox: i32, kx: (i32, i32)| {
                let x0 = ox * p.stride_w - p.pad_w;
                Taps {
                    x: ((y0 + ky.0 * p.dil_h) * p.in_w + x0 + kx.0 * p.dil_w) as usize * g.ic,
                    w: (ky.0 * p.k_w + kx.0) as usize * g.c,
                    rows: (ky.1 - ky.0) as usize,
                    cols: (kx.1 - kx.0) as usize,
                    x_row: p.dil_h as usize * g.row,
                    w_row: p.k_w as usize * g.c,
                }
            };
            let mut ox = 0;
            while ox < p.out_w {
                if ox == lo && hi > lo {
                    let n = (hi - lo) as usize;
                    let first = taps_at(lo, (0, p.k_w));
                    let step = p.stride_w as usize * g.ic;
                    let run = Run {
                        first: &first,
                        pixels: n,
                        step,
                        c0,
                        #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
                        window: window.as_ref(),
                    };
                    if N == 4
                        && let (Ok(start4), Ok(rq4)) = (
                            <&[i32; 4]>::try_from(start.as_slice()),
                            <&[Requant; 4]>::try_from(rq.as_slice()),
                        )
                        && interior_run(
                            &run,
                            &src,
                            start4,
                            rq4,
                            out.get_mut(at..).unwrap_or_default(),
                        )
                    {
                        ox = hi;
                        at += n * g.c;
                        continue;
                    }
                }
                let x0 = ox * p.stride_w - p.pad_w;
                let taps = taps_at(ox, valid_taps(x0, p.k_w, p.dil_w, p.in_w));
                ox += 1;
                let mut acc = start;
                accumulate(&mut acc, &taps, &src, c0);
                if let Some(dst) = out.get_mut(at..at + N) {
                    for ((d, a), r) in dst.iter_mut().zip(acc).zip(&rq) {
                        *d = r.apply(a);
                    }
                }
                at += g.c;
            }
        }
    }
}

/// Adds the taps of channels `c0..c0 + N` into `acc`.
#[inline(always)]
fn accumulate<const N: usize>(acc: &mut [i32; N], taps: &Taps, src: &Src<'_>, c0: usize) {
    if let Ok(acc4) = <&mut [i32; 4]>::try_from(acc.as_mut_slice()) {
        return quad_taps(acc4, taps, src, c0);
    }
    scalar_taps(acc, taps, src, c0);
}

/// Adds the taps of channels `c0..c0 + acc.len()` into `acc`, one channel and one
/// tap at a time (shapes the four-channel loops do not take).
#[inline(never)]
fn scalar_taps(acc: &mut [i32], taps: &Taps, src: &Src<'_>, c0: usize) {
    let g = src.g;
    for (j, a) in acc.iter_mut().enumerate() {
        let (ch, xc) = (c0 + j, (c0 + j) / g.dm);
        taps.each(g.tap_step, g.c, |xi, wi| {
            let xv = i32::from(src.input.get(xi + xc).copied().unwrap_or(0)) + src.off;
            let wv = i32::from(src.filter.get(wi + ch).copied().unwrap_or(0));
            *a = a.wrapping_add(xv * wv);
        });
    }
}

/// The valid-tap rectangle of one output pixel.
struct Taps {
    x: usize,
    w: usize,
    rows: usize,
    cols: usize,
    x_row: usize,
    w_row: usize,
}

impl Taps {
    /// Calls `f(x_index, w_index)` for every valid tap (channel 0 of the tap).
    #[inline(always)]
    fn each(&self, tap_step: usize, c: usize, mut f: impl FnMut(usize, usize)) {
        let (mut xr, mut wr) = (self.x, self.w);
        for _ in 0..self.rows {
            let (mut xi, mut wi) = (xr, wr);
            for _ in 0..self.cols {
                f(xi, wi);
                xi += tap_step;
                wi += c;
            }
            xr += self.x_row;
            wr += self.w_row;
        }
    }
}

/// Four consecutive values starting at `i` (zeros past the end, which the checks in
/// [`eval`] rule out).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
fn four(s: &[i8], i: usize) -> [i8; 4] {
    match s.get(i..i + 4) {
        Some(v) => [v[0], v[1], v[2], v[3]],
        None => [0; 4],
    }
}

/// Four channels (from `c0`) of every tap, with the bounds checked once: the taps
/// of each row run back to back through [`Src::row`] (DSP taps on Cortex-M4, `asm!`
/// rows on Cortex-M0, portable elsewhere) with the accumulators in registers. Taps
/// those loops do not take go through [`scalar_taps`].
#[inline(always)]
fn quad_taps(acc: &mut [i32; 4], taps: &Taps, src: &Src<'_>, c0: usize) {
    if taps.rows == 0 || taps.cols == 0 {
        return;
    }
    let Some(xc) = src.fits(taps, c0, 0) else {
        return scalar_taps(acc, taps, src, c0);
    };
    let off2 = offset_pair(src.off);
    for r in 0..taps.rows {
        let xp = src
            .input
            .as_ptr()
            .wrapping_add(taps.x + r * taps.x_row + xc);
        let wp = src
            .filter
            .as_ptr()
            .wrapping_add(taps.w + r * taps.w_row + c0);
        // SAFETY: every tap reads within the bounds of the last tap, checked
        // against both slices by `fits`.
        unsafe { src.row(acc, xp, wp, taps.cols, off2) };
    }
}

/// The tap loops of channels `c0..c0 + 4` (DSP on Cortex-M4, portable elsewhere).
impl Src<'_> {
    /// Whether the taps `t` (shifted by `extra` input bytes, for a later pixel of a
    /// run) can go through [`row4`] (depth multiplier 1, taps one pixel apart) or
    /// [`row4_shared`] (a multiple of 4) within the slices: returns the input
    /// channel the taps read from. Tap indices grow with the row and the column, so
    /// the last tap bounds them all.
    #[inline(always)]
    fn fits(&self, t: &Taps, c0: usize, extra: usize) -> Option<usize> {
        let g = self.g;
        let shared = g.dm != 1;
        if (!shared && g.tap_step != g.c) || t.rows == 0 || t.cols == 0 {
            return None;
        }
        // The input bytes each tap reads start at `xc` and span `x_len`.
        let (xc, x_len) = if shared { (c0 / g.dm, 1) } else { (c0, 4) };
        let last_x = t.x + extra + (t.rows - 1) * t.x_row + (t.cols - 1) * g.tap_step;
        let last_w = t.w + (t.rows - 1) * t.w_row + (t.cols - 1) * g.c;
        (last_x + xc + x_len <= self.input.len() && last_w + c0 + 4 <= self.filter.len())
            .then_some(xc)
    }

    /// One row of `cols` taps from `xp` (input) and `wp` (filter), back to back
    /// with the accumulators in registers; `off2` is `offset_pair(self.off)`.
    ///
    /// # Safety
    /// Every tap of the row must read inside the input and the filter (checked
    /// by [`Self::fits`]).
    #[inline(always)]
    unsafe fn row(&self, acc: &mut [i32; 4], xp: *const i8, wp: *const i8, cols: usize, off2: u32) {
        let (step, tap_step) = (self.g.c, self.g.tap_step);
        // SAFETY: the caller guarantees every read of the row's taps.
        unsafe {
            if self.g.dm != 1 {
                row4_shared(acc, xp, wp, cols, [tap_step, step], self.off);
            } else {
                row4(acc, xp, wp, cols, step, off2);
            }
        }
    }
}
