//! DEPTHWISE_CONV_2D on the host (depth multiplier 1 or a multiple of 8, channels a
//! multiple of 8): per output pixel and block of 8 channels, the valid taps
//! accumulate `(x + offset) * w` in 8 `i32` lanes (AVX2 `vpmulld`; with a multiple
//! of 8 the block shares one input value), then the block is requantized at once.
//! One input channel makes the layer a convolution, which `super::conv` runs; other
//! shapes take the generic kernel.

use core::arch::x86_64::{
    __m256i, __m512i, _mm_loadl_epi64, _mm_loadu_si128, _mm256_add_epi32, _mm256_cvtepi8_epi32,
    _mm256_loadu_si256, _mm256_mullo_epi32, _mm256_set1_epi32, _mm512_add_epi32,
    _mm512_cvtepi8_epi32, _mm512_loadu_si512, _mm512_mullo_epi32, _mm512_set1_epi32,
};
use core::mem::MaybeUninit;

use super::requant::{Out, Rq, requant8, requant16};
use super::{assume_init, size};
use crate::kernels::conv::{ConvParams, Operands};
use crate::kernels::data::read_i32;

/// The most channels taken.
const MAX_C: usize = 1024;

/// The first `k` in `0..n` with `origin + k * dilation >= 0`, and one past the last
/// with `origin + k * dilation < extent` (the valid taps along one axis).
fn valid_taps(origin: i64, n: i64, dilation: i64, extent: i64) -> (i64, i64) {
    if dilation == 1 {
        // The common case, without the divisions.
        let lo = (-origin).clamp(0, n);
        return (lo, (extent - origin).clamp(lo, n));
    }
    let lo = if origin >= 0 {
        0
    } else {
        (-origin + dilation - 1) / dilation
    };
    let hi = if extent - origin <= 0 {
        0
    } else {
        (extent - origin + dilation - 1) / dilation
    };
    (lo.min(n), hi.min(n).max(lo.min(n)))
}

/// Runs DEPTHWISE_CONV_2D into `out` with AVX2, or with `wide` AVX-512 (the caller
/// checked the CPU has them); false, having written nothing, for a shape this
/// kernel leaves out.
pub(super) fn run(o: &Operands<'_>, wide: bool, out: &mut [i8]) -> bool {
    let p = &o.p;
    let (Some(in_len), Some(taps), Some(out_len), Some(c)) = (
        size(&[p.batches, p.in_h, p.in_w, p.in_c]),
        size(&[p.k_h, p.k_w, p.out_c]),
        size(&[p.batches, p.out_h, p.out_w, p.out_c]),
        size(&[p.out_c]),
    ) else {
        return false;
    };
    let dm = p.depth_multiplier;
    if !(dm == 1 || (dm > 0 && dm % 8 == 0))
        || p.in_c.checked_mul(dm) != Some(p.out_c)
        || c % 8 != 0
        || c > MAX_C
        || size(&[p.stride_h, p.stride_w, p.dil_h, p.dil_w]).is_none()
        || !(-127..=128).contains(&p.input_offset)
        || o.input.len() < in_len
        || o.filter.len() < taps
        || out.len() < out_len
    {
        return false;
    }
    let sixteen = wide && dm == 1 && c % 16 == 0;
    #[cfg(any(feature = "std", test))]
    {
        use super::cache::{Data, key, with};
        let offset = o.p.input_offset as usize;
        let key = key(o.filter, o.bias, [c, taps, offset, sixteen.into()]);
        let make = || Data::Depthwise(Packed::new(o, sixteen, c, taps));
        if with(key, Data::depthwise, make, |p| p.run(o, sixteen, out)).is_some() {
            return true;
        }
    }
    on_stack(o, sixteen, c, taps, out);
    true
}

/// Per channel (`c`): the bias, and the bias plus `input_offset * sum(w)` over all
/// `taps`, what a pixel with every tap valid adds.
fn sums(o: &Operands<'_>, c: usize, taps: usize, bias: &mut [i32], full: &mut [i32]) {
    for (ch, (b, f)) in bias.iter_mut().zip(full).enumerate().take(c) {
        *b = read_i32(o.bias, ch);
        let wsum = (ch..taps)
            .step_by(c)
            .fold(0i32, |a, i| a.wrapping_add(i32::from(o.filter[i])));
        *f = b.wrapping_add(o.p.input_offset.wrapping_mul(wsum));
    }
}

/// The requantization of channels `N * blk..N * blk + N`.
fn rq_block<const N: usize>(o: &Operands<'_>, blk: usize) -> Rq<N> {
    Rq::new(|j| o.q.channel(N * blk + j))
}

/// The layer with its per-channel data worked out into stack buffers.
#[inline(never)]
fn on_stack(o: &Operands<'_>, sixteen: bool, c: usize, taps: usize, out: &mut [i8]) {
    let (mut bias, mut full) = ([0i32; MAX_C], [0i32; MAX_C]);
    sums(o, c, taps, &mut bias, &mut full);
    let (bias, full) = (&bias[..c], &full[..c]);
    if sixteen {
        on_stack_rq::<16, { MAX_C / 16 }>(o, c, |rq| {
            layer(o, bias, full, Rqs::Sixteen(rq), out);
        });
    } else {
        on_stack_rq::<8, { MAX_C / 8 }>(o, c, |rq| layer(o, bias, full, Rqs::Eight(rq), out));
    }
}

/// `run` with the requantization of the `c` channels, blocks of `N` (at most `M`).
#[inline(always)]
fn on_stack_rq<const N: usize, const M: usize>(
    o: &Operands<'_>,
    c: usize,
    run: impl FnOnce(&[Rq<N>]),
) {
    let mut rq = [const { MaybeUninit::<Rq<N>>::uninit() }; M];
    for (blk, r) in rq.iter_mut().enumerate().take(c / N) {
        r.write(rq_block(o, blk));
    }
    // SAFETY: the loop wrote the first `c / N`.
    run(unsafe { assume_init(&rq[..c / N]) });
}

/// A layer's requantization per block of 16 (AVX-512) or 8 channels.
enum Rqs<'a> {
    Sixteen(&'a [Rq<16>]),
    Eight(&'a [Rq<8>]),
}

/// Runs the layer with its per-channel data.
fn layer(o: &Operands<'_>, bias: &[i32], full: &[i32], rq: Rqs<'_>, out: &mut [i8]) {
    let p = &o.p;
    let l = Layer {
        p,
        input: o.input,
        filter: o.filter,
        bias,
        full,
        in_c: p.in_c as usize,
        dm: p.depth_multiplier as usize,
        out: Out {
            offset: p.output_offset,
            lo: p.act_min,
            hi: p.act_max,
        },
    };
    // SAFETY: `run`'s caller checked that the CPU has AVX2 (and AVX-512 for
    // `Sixteen`, which `run` picks only with `wide`).
    unsafe {
        match rq {
            Rqs::Sixteen(rq) => layer_avx512(&l, rq, out),
            Rqs::Eight(rq) => layer_avx2(&l, rq, out),
        }
    }
}

/// A depthwise layer's per-channel data (the cache's entry, see [`super::cache`]).
#[cfg(any(feature = "std", test))]
pub(super) struct Packed {
    bias: std::vec::Vec<i32>,
    full: std::vec::Vec<i32>,
    rq16: std::vec::Vec<Rq<16>>,
    rq8: std::vec::Vec<Rq<8>>,
}

#[cfg(any(feature = "std", test))]
impl Packed {
    /// Works out the per-channel data of `o`'s `c` channels and `taps`.
    fn new(o: &Operands<'_>, sixteen: bool, c: usize, taps: usize) -> Self {
        let (mut bias, mut full) = (std::vec![0; c], std::vec![0; c]);
        sums(o, c, taps, &mut bias, &mut full);
        let (n16, n8) = if sixteen { (c / 16, 0) } else { (0, c / 8) };
        Packed {
            bias,
            full,
            rq16: (0..n16).map(|b| rq_block(o, b)).collect(),
            rq8: (0..n8).map(|b| rq_block(o, b)).collect(),
        }
    }

    /// Runs `o` (which this data was made for).
    fn run(&self, o: &Operands<'_>, sixteen: bool, out: &mut [i8]) {
        let rq = if sixteen {
            Rqs::Sixteen(&self.rq16)
        } else {
            Rqs::Eight(&self.rq8)
        };
        layer(o, &self.bias, &self.full, rq, out);
    }
}

/// What the loops of one layer read.
struct Layer<'a> {
    p: &'a ConvParams,
    input: &'a [i8],
    filter: &'a [i8],
    /// One per output channel.
    bias: &'a [i32],
    /// The biases plus `input_offset * sum(w)` over all taps, per channel.
    full: &'a [i32],
    in_c: usize,
    dm: usize,
    out: Out,
}

/// The valid-tap rectangle of one output pixel: the input and filter indices of its
/// first tap (channel 0), how many rows and columns, and the steps between them.
struct Taps {
    x: usize,
    w: usize,
    rows: usize,
    cols: usize,
    x_col: usize,
    x_row: usize,
    w_row: usize,
}

/// Calls `block(taps, at)` for every output pixel (`at`: its first output byte).
#[inline(always)]
fn pixels(l: &Layer<'_>, mut block: impl FnMut(&Taps, usize)) {
    let p = l.p;
    let c = l.bias.len();
    let wide = |v: i32| i64::from(v);
    let (ih, iw) = (wide(p.in_h), wide(p.in_w));
    let (kh, kw) = (wide(p.k_h), wide(p.k_w));
    let (dh, dw) = (wide(p.dil_h), wide(p.dil_w));
    let mut at = 0;
    for b in 0..wide(p.batches) {
        for oy in 0..wide(p.out_h) {
            let y0 = oy * wide(p.stride_h) - wide(p.pad_h);
            let (ky0, ky1) = valid_taps(y0, kh, dh, ih);
            for ox in 0..wide(p.out_w) {
                let x0 = ox * wide(p.stride_w) - wide(p.pad_w);
                let (kx0, kx1) = valid_taps(x0, kw, dw, iw);
                // Valid taps lie inside the image and the filter: every index below
                // stays within the sizes `run` checked.
                let (iy, ix) = (y0 + ky0 * dh, x0 + kx0 * dw);
                let taps = Taps {
                    x: (((b * ih + iy) * iw + ix) as usize) * l.in_c,
                    w: ((ky0 * kw + kx0) as usize) * c,
                    rows: (ky1 - ky0) as usize,
                    cols: (kx1 - kx0) as usize,
                    x_col: dw as usize * l.in_c,
                    x_row: (dh * iw) as usize * l.in_c,
                    w_row: kw as usize * c,
                };
                block(&taps, at);
                at += c;
            }
        }
    }
}

/// Calls `f(x_index, w_index)` for every valid tap (channel 0 of the tap).
#[inline(always)]
fn each(t: &Taps, c: usize, mut f: impl FnMut(usize, usize)) {
    let (mut xr, mut wr) = (t.x, t.w);
    for _ in 0..t.rows {
        let (mut xi, mut wi) = (xr, wr);
        for _ in 0..t.cols {
            f(xi, wi);
            xi += t.x_col;
            wi += c;
        }
        xr += t.x_row;
        wr += t.w_row;
    }
}

/// The layer in blocks of 8 channels, compiled for AVX2.
///
/// # Safety
/// The CPU has AVX2; the sizes were checked by [`run`].
#[target_feature(enable = "avx2")]
unsafe fn layer_avx2(l: &Layer<'_>, rq: &[Rq<8>], out: &mut [i8]) {
    let (c, dm) = (l.bias.len(), l.dm);
    let off = _mm256_set1_epi32(l.p.input_offset);
    let (xp, wp) = (l.input.as_ptr(), l.filter.as_ptr());
    pixels(l, |t, at| {
        for (blk, r) in rq.iter().enumerate() {
            let ch = 8 * blk;
            // SAFETY: reads 8 of the `c` biases; every tap reads within the checked
            // sizes (with a multiple of 8 the block's input channel is
            // `ch / dm < in_c`, else `ch + 8 <= c = in_c`).
            unsafe {
                let mut acc: __m256i = _mm256_loadu_si256(l.bias[ch..].as_ptr().cast());
                each(t, c, |xi, wi| {
                    let x = if dm == 1 {
                        _mm256_cvtepi8_epi32(_mm_loadl_epi64(xp.add(xi + ch).cast()))
                    } else {
                        _mm256_set1_epi32(i32::from(*xp.add(xi + ch / dm)))
                    };
                    let w = _mm256_cvtepi8_epi32(_mm_loadl_epi64(wp.add(wi + ch).cast()));
                    let prod = _mm256_mullo_epi32(_mm256_add_epi32(x, off), w);
                    acc = _mm256_add_epi32(acc, prod);
                });
                requant8(acc, r, &l.out, &mut out[at + ch..at + ch + 8]);
            }
        }
    });
}

/// The layer in blocks of 16 channels (depth multiplier 1), two blocks per pass
/// over the taps when the channels allow, compiled for AVX-512.
///
/// # Safety
/// The CPU has AVX-512 F/BW/VL; the sizes were checked by [`run`].
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl")]
unsafe fn layer_avx512(l: &Layer<'_>, rq: &[Rq<16>], out: &mut [i8]) {
    let c = l.bias.len();
    pixels(l, |t, at| {
        // SAFETY: AVX-512 is this function's contract; `blocks` reads within `c`.
        unsafe {
            if c.is_multiple_of(32) {
                for ch in (0..c).step_by(32) {
                    blocks::<2>(l, t, ch, &rq[ch / 16..], &mut out[at + ch..at + ch + 32]);
                }
            } else {
                for ch in (0..c).step_by(16) {
                    blocks::<1>(l, t, ch, &rq[ch / 16..], &mut out[at + ch..at + ch + 16]);
                }
            }
        }
    });
}

/// `N` blocks of 16 channels from `ch` of one output pixel (taps `t`) into `dst`.
///
/// # Safety
/// The CPU has AVX-512 F/BW/VL (the caller is compiled for it); `ch + 16 * N <= c`.
#[inline(always)]
unsafe fn blocks<const N: usize>(
    l: &Layer<'_>,
    t: &Taps,
    ch: usize,
    rq: &[Rq<16>],
    dst: &mut [i8],
) {
    let c = l.bias.len();
    let (xp, wp) = (l.input.as_ptr(), l.filter.as_ptr());
    // SAFETY: reads `16 * N` of the `c` biases; every tap reads channels
    // `ch..ch + 16 * N <= c = in_c` within the checked sizes.
    unsafe {
        let off = _mm512_set1_epi32(l.p.input_offset);
        let load = |p: *const i8, i: usize| _mm512_cvtepi8_epi32(_mm_loadu_si128(p.add(i).cast()));
        // Every tap valid: the offset's share is in `full`.
        let full = t.rows == l.p.k_h as usize && t.cols == l.p.k_w as usize;
        let start = if full { l.full } else { l.bias };
        let mut acc: [__m512i; N] =
            core::array::from_fn(|n| _mm512_loadu_si512(start[ch + 16 * n..].as_ptr().cast()));
        each(t, c, |xi, wi| {
            for (n, a) in acc.iter_mut().enumerate() {
                let (x, w) = (load(xp, xi + ch + 16 * n), load(wp, wi + ch + 16 * n));
                let x = if full { x } else { _mm512_add_epi32(x, off) };
                *a = _mm512_add_epi32(*a, _mm512_mullo_epi32(x, w));
            }
        });
        for (n, a) in acc.into_iter().enumerate() {
            requant16(a, &rq[n], &l.out, &mut dst[16 * n..16 * n + 16]);
        }
    }
}
