//! CONV_2D on the host: per block of [`PX`] output pixels, each pixel's receptive
//! field is gathered as `u = x ^ 0x80` bytes (padding taps hold the input zero point
//! the same way, which the bias correction cancels exactly), then every group of 8 or
//! 16 output channels runs one tile over the block. The weights are re-laid-out four
//! reduction values per lane, with each channel's weight sum folded into its bias:
//! once per layer into the interpreter's cache (`super::cache`, with `std`), else
//! per call, a chunk of groups at a time, into a stack buffer.

use core::arch::x86_64::_mm256_loadu_si256;
use core::mem::MaybeUninit;

use super::requant::{Out, Rq, requant8, requant16};
use super::simd::{self, PX};
use super::{Level, assume_init, size};
use crate::kernels::conv::{ConvParams, Operands};
use crate::kernels::data::read_i32;

/// The longest receptive field (`k_h * k_w * in_c`, rounded up to 4) taken.
pub(super) const MAX_K: usize = 2048;
/// Bytes of re-laid-out weights per chunk.
const PACK: usize = 32 * 1024;
/// The most channel groups per chunk.
const MAX_GROUPS: usize = 64;

/// One channel group's biases (with the `u` correction) and requantization (8-lane
/// groups use the first half).
#[derive(Clone, Copy)]
struct Group {
    bias: [i32; 16],
    rq: Rq<16>,
}

/// What the loops of one layer read.
struct Layer<'a> {
    p: &'a ConvParams,
    input: &'a [i8],
    /// Receptive field, and rounded up to 4.
    k: usize,
    kp: usize,
    /// Output channels, and per group.
    c: usize,
    /// Where weight `i` of output channel `oc` is: `oc * oc_step + i * k_step`.
    oc_step: usize,
    k_step: usize,
    lanes: usize,
    pixels: usize,
    out: Out,
    /// A padding tap as a `u` byte.
    upad: u8,
}

/// Runs CONV_2D at `level` (AVX2 or above) into `out`, or, with `depthwise`, a
/// DEPTHWISE_CONV_2D of one input channel (the same sum, its filter `[1, k_h, k_w,
/// out_c]`); false, having written nothing, for a level below AVX2 or a shape this
/// kernel leaves out (receptive field over [`MAX_K`], inconsistent sizes).
pub(super) fn run(level: Level, o: &Operands<'_>, depthwise: bool, out: &mut [i8]) -> bool {
    let p = &o.p;
    let (Some(k), Some(in_len), Some(pixels), Some(c)) = (
        size(&[p.k_h, p.k_w, p.in_c]),
        size(&[p.batches, p.in_h, p.in_w, p.in_c]),
        size(&[p.batches, p.out_h, p.out_w]),
        size(&[p.out_c]),
    ) else {
        return false;
    };
    let kp = k.div_ceil(4) * 4;
    if level < Level::Avx2
        || (depthwise && (p.in_c != 1 || p.depth_multiplier != p.out_c))
        || kp > MAX_K
        || size(&[p.stride_h, p.stride_w, p.dil_h, p.dil_w]).is_none()
        || !(-127..=128).contains(&p.input_offset)
        || o.input.len() < in_len
        || c.checked_mul(k).is_none_or(|n| o.filter.len() < n)
        || pixels.checked_mul(c).is_none_or(|n| out.len() < n)
    {
        return false;
    }
    let lanes = if level == Level::Avx512Vnni && c > 8 {
        16
    } else {
        8
    };
    let l = Layer {
        p,
        input: o.input,
        k,
        kp,
        c,
        oc_step: if depthwise { 1 } else { k },
        k_step: if depthwise { c } else { 1 },
        lanes,
        pixels,
        out: Out {
            offset: p.output_offset,
            lo: p.act_min,
            hi: p.act_max,
        },
        upad: ((-p.input_offset) as u8) ^ 0x80,
    };
    #[cfg(any(feature = "std", test))]
    {
        use super::cache::{Data, key, with};
        let key = key(
            o.filter,
            o.bias,
            [l.k, l.c, level as usize, depthwise.into()],
        );
        let make = || Data::Conv(Packed::new(o, &l));
        if with(key, Data::conv, make, |p| p.run(level, &l, out)).is_some() {
            return true;
        }
    }
    on_stack(level, o, &l, out);
    true
}

/// The receptive fields of a block of [`PX`] pixels, as `u` bytes.
type Rows = [[MaybeUninit<u8>; MAX_K]; PX];

/// The channel groups per chunk (a chunk's weights fit in [`PACK`] bytes).
fn per_chunk(l: &Layer<'_>) -> usize {
    (PACK / (l.lanes * l.kp)).clamp(1, MAX_GROUPS)
}

/// The layer, its weights re-laid-out chunk by chunk into a stack buffer.
#[inline(never)]
fn on_stack(level: Level, o: &Operands<'_>, l: &Layer<'_>, out: &mut [i8]) {
    let mut packed = [MaybeUninit::<u32>::uninit(); PACK / 4];
    let mut groups = [const { MaybeUninit::<Group>::uninit() }; MAX_GROUPS];
    let mut rows = [[MaybeUninit::uninit(); MAX_K]; PX];
    let (lanes, kp) = (l.lanes, l.kp);
    let total = l.c.div_ceil(lanes);
    let mut g0 = 0;
    while g0 < total {
        let n = per_chunk(l).min(total - g0);
        for (g, grp) in groups.iter_mut().take(n).enumerate() {
            let dst = &mut packed[g * lanes * kp / 4..(g + 1) * lanes * kp / 4];
            grp.write(pack(o, l, g0 + g, dst));
        }
        // SAFETY: `pack` wrote every byte of the first `n` groups and the groups.
        let (packed, groups) = unsafe {
            (
                assume_init(&packed[..n * lanes * kp / 4]),
                assume_init(&groups[..n]),
            )
        };
        chunk_at(level, l, &mut rows, Chunk { packed, groups, g0 }, out);
        g0 += n;
    }
}

/// A chunk of channel groups: `groups` (the first is group `g0`) and their
/// re-laid-out weights.
#[derive(Clone, Copy)]
struct Chunk<'a> {
    packed: &'a [u32],
    groups: &'a [Group],
    g0: usize,
}

/// [`chunk`] at `level`.
fn chunk_at(level: Level, l: &Layer<'_>, rows: &mut Rows, ch: Chunk<'_>, out: &mut [i8]) {
    // SAFETY: `level` is supported (`super::level` and `set_level` check it).
    unsafe {
        match level {
            Level::Sse2 => {}
            Level::Avx2 => chunk_avx2(l, rows, ch, out),
            Level::AvxVnni => chunk_avxvnni(l, rows, ch, out),
            Level::Avx512Vnni => chunk_avx512(l, rows, ch, out),
        }
    }
}

/// A convolution's weights re-laid-out and its groups, all chunks at once (the
/// cache's entry, see [`super::cache`]).
#[cfg(any(feature = "std", test))]
pub(super) struct Packed {
    packed: std::vec::Vec<u32>,
    groups: std::vec::Vec<Group>,
    /// The gathered receptive fields of a block of pixels.
    rows: std::boxed::Box<Rows>,
}

#[cfg(any(feature = "std", test))]
impl Packed {
    /// Lays out the weights and groups of `l`.
    fn new(o: &Operands<'_>, l: &Layer<'_>) -> Self {
        let words = l.lanes * l.kp / 4;
        let total = l.c.div_ceil(l.lanes);
        let mut packed = std::vec::Vec::with_capacity(total * words);
        packed.resize(total * words, MaybeUninit::uninit());
        let groups = (0..total)
            .map(|g| pack(o, l, g, &mut packed[g * words..(g + 1) * words]))
            .collect();
        // SAFETY: `pack` wrote every word of every group.
        let packed = unsafe { assume_init(&packed) }.to_vec();
        let rows = std::boxed::Box::new([[MaybeUninit::uninit(); MAX_K]; PX]);
        Packed {
            packed,
            groups,
            rows,
        }
    }

    /// Runs `l` (which these weights were made for) at `level`, chunk by chunk.
    fn run(&mut self, level: Level, l: &Layer<'_>, out: &mut [i8]) {
        let words = l.lanes * l.kp / 4;
        let n = per_chunk(l);
        for (i, groups) in self.groups.chunks(n).enumerate() {
            let g0 = i * n;
            let packed = &self.packed[g0 * words..(g0 + groups.len()) * words];
            let ch = Chunk { packed, groups, g0 };
            chunk_at(level, l, &mut self.rows, ch, out);
        }
    }
}

/// Re-lays-out group `g`'s weights into `dst` (`kp / 4` blocks of `lanes` words:
/// reduction values `4q..4q + 4` of each lane's channel, little-endian) and fills
/// its biases and requantization. Lanes past the last channel get zero weights.
fn pack(o: &Operands<'_>, l: &Layer<'_>, g: usize, dst: &mut [MaybeUninit<u32>]) -> Group {
    let correction = l.p.input_offset.wrapping_sub(128);
    let mut bias = [0i32; 16];
    let word = |b: [i8; 4]| u32::from_le_bytes(b.map(|v| v as u8));
    for j in 0..l.lanes {
        let oc = g * l.lanes + j;
        let blocks = dst.chunks_exact_mut(l.lanes).map(|d| &mut d[j]);
        if oc >= l.c {
            blocks.for_each(|d| {
                d.write(0);
            });
            continue;
        }
        let wsum = if l.k_step == 1 {
            // A convolution's rows are contiguous: 4 bytes at a time.
            let row = &o.filter[oc * l.k..(oc + 1) * l.k];
            let (quads, rest) = row.as_chunks::<4>();
            let mut last = [0i8; 4];
            for (v, &x) in last.iter_mut().zip(rest) {
                *v = x;
            }
            for (d, &q) in blocks.zip(quads.iter().chain([&last])) {
                d.write(word(q));
            }
            row.iter().fold(0i32, |a, &v| a.wrapping_add(i32::from(v)))
        } else {
            // `i < k` keeps every index under `c * k <= filter.len()`.
            let w = |i: usize| {
                if i < l.k {
                    o.filter[oc * l.oc_step + i * l.k_step]
                } else {
                    0
                }
            };
            for (q, d) in blocks.enumerate() {
                d.write(word([0, 1, 2, 3].map(|b| w(4 * q + b))));
            }
            (0..l.k).fold(0i32, |a, i| a.wrapping_add(i32::from(w(i))))
        };
        bias[j] = read_i32(o.bias, oc).wrapping_add(correction.wrapping_mul(wsum));
    }
    let rq = Rq::new(|j| {
        let oc = g * l.lanes + j;
        if j < l.lanes && oc < l.c {
            o.q.channel(oc)
        } else {
            (0, 0)
        }
    });
    Group { bias, rq }
}

/// `dst[i] = src[i] ^ 0x80`: int8 values as the `u` bytes of the VNNI products
/// (eight at a time).
#[inline(always)]
fn flip(dst: &mut [MaybeUninit<u8>], src: &[i8]) {
    let (dc, dr) = dst.as_chunks_mut::<8>();
    let (sc, sr) = src.as_chunks::<8>();
    for (d, s) in dc.iter_mut().zip(sc) {
        let v = u64::from_ne_bytes(s.map(|b| b as u8)) ^ 0x8080_8080_8080_8080;
        for (x, b) in d.iter_mut().zip(v.to_ne_bytes()) {
            x.write(b);
        }
    }
    for (d, &s) in dr.iter_mut().zip(sr) {
        d.write((s as u8) ^ 0x80);
    }
}

/// Fills `dst` with `v`.
#[inline(always)]
fn fill(dst: &mut [MaybeUninit<u8>], v: u8) {
    for d in dst {
        d.write(v);
    }
}

/// An output pixel: batch, row, column.
#[derive(Clone, Copy, Default)]
struct Pos {
    b: usize,
    oy: usize,
    ox: usize,
}

impl Pos {
    /// The next pixel in output order.
    #[inline(always)]
    fn next(&mut self, p: &ConvParams) {
        self.ox += 1;
        if self.ox == p.out_w as usize {
            self.ox = 0;
            self.oy += 1;
            if self.oy == p.out_h as usize {
                self.oy = 0;
                self.b += 1;
            }
        }
    }
}

/// Gathers the receptive field of output pixel `at` as `u` bytes into `dst`
/// (`kp` bytes: the `k` values in filter order, then zeros).
#[inline(always)]
fn gather(l: &Layer<'_>, at: &Pos, dst: &mut [MaybeUninit<u8>]) {
    fill(&mut dst[l.k..l.kp], 0);
    let p = l.p;
    let ic = p.in_c as usize;
    let (ih, iw) = (i64::from(p.in_h), i64::from(p.in_w));
    let y0 = at.oy as i64 * i64::from(p.stride_h) - i64::from(p.pad_h);
    let x0 = at.ox as i64 * i64::from(p.stride_w) - i64::from(p.pad_w);
    let (kw, dil_w) = (i64::from(p.k_w), i64::from(p.dil_w));
    let row_len = p.k_w as usize * ic;
    for (ky, d) in dst[..l.k].chunks_exact_mut(row_len).enumerate() {
        let iy = y0 + ky as i64 * i64::from(p.dil_h);
        if iy < 0 || iy >= ih {
            fill(d, l.upad);
            continue;
        }
        // `iy` and every `ix` below are inside the image, so each index is within
        // `batches * in_h * in_w * in_c <= input.len()`.
        let base = (at.b * ih as usize + iy as usize) * iw as usize;
        if dil_w == 1 {
            // Columns `lo..hi` of the filter row are inside the image.
            let lo = (-x0).clamp(0, kw);
            let hi = (iw - x0).clamp(lo, kw);
            let (lo_b, hi_b) = (lo as usize * ic, hi as usize * ic);
            let s = (base + (x0 + lo) as usize) * ic;
            fill(&mut d[..lo_b], l.upad);
            flip(&mut d[lo_b..hi_b], &l.input[s..s + (hi_b - lo_b)]);
            fill(&mut d[hi_b..], l.upad);
            continue;
        }
        for (kx, dd) in d.chunks_exact_mut(ic).enumerate() {
            let ix = x0 + kx as i64 * dil_w;
            if ix < 0 || ix >= iw {
                fill(dd, l.upad);
            } else {
                let s = (base + ix as usize) * ic;
                flip(dd, &l.input[s..s + ic]);
            }
        }
    }
}

/// Every pixel of the layer against the chunk's channel groups (`rows`: room for a
/// block's receptive fields); `LV` is the level (`Level as u8`).
///
/// # Safety
/// The CPU has level `LV`'s features (the callers below are compiled for them).
#[inline(always)]
unsafe fn chunk<const LV: u8>(l: &Layer<'_>, rows: &mut Rows, ch: Chunk<'_>, out: &mut [i8]) {
    let Chunk { packed, groups, g0 } = ch;
    let (kq, gwords, c) = (l.kp / 4, l.lanes * l.kp / 4, l.c);
    let (mut px, mut at) = (0, Pos::default());
    while px < l.pixels {
        let valid = (l.pixels - px).min(PX);
        for (lane, r) in rows.iter_mut().enumerate() {
            // A short last block repeats its last pixel; those results are dropped.
            gather(l, &at, &mut r[..l.kp]);
            if lane + 1 < valid {
                at.next(l.p);
            }
        }
        at.next(l.p);
        // `gather` wrote the first `kp` bytes of every row, all that the tiles read.
        let ptrs = [0, 1, 2, 3].map(|i| rows[i].as_ptr().cast::<u8>());
        let w_of = |g: usize| packed[g * gwords..(g + 1) * gwords].as_ptr().cast::<u8>();
        if LV == Level::Avx512Vnni as u8 && l.lanes == 16 {
            for pair in (0..groups.len()).step_by(2) {
                // An odd last group runs twice; the copy's results are dropped.
                let gs = [pair, (pair + 1).min(groups.len() - 1)];
                let (grp, w) = (gs.map(|g| &groups[g]), gs.map(w_of));
                // SAFETY: each row holds `kp = 4 * kq` bytes and each `w` `16 * kp`;
                // the level's features are the caller's contract.
                let acc = unsafe { simd::tile16x2(ptrs, w, kq, grp.map(|g| &g.bias)) };
                for (h, acc) in acc.iter().enumerate().take(groups.len() - pair) {
                    let oc0 = (g0 + pair + h) * 16;
                    let width = 16.min(c - oc0);
                    for (lane, &a) in acc.iter().enumerate().take(valid) {
                        let d = &mut out[(px + lane) * c + oc0..][..width];
                        // SAFETY: as above.
                        unsafe { requant16(a, &grp[h].rq, &l.out, d) };
                    }
                }
            }
            px += PX;
            continue;
        }
        for (g, grp) in groups.iter().enumerate() {
            let w = w_of(g);
            let oc0 = (g0 + g) * l.lanes;
            let width = l.lanes.min(c - oc0);
            // SAFETY: each row holds `kp = 4 * kq` bytes and `w` `lanes * kp`; the
            // level's features are the caller's contract.
            unsafe {
                let init = _mm256_loadu_si256(grp.bias.as_ptr().cast());
                let acc = match LV {
                    2 => simd::avx2::tile(ptrs, w, kq, init),
                    3 => simd::avxvnni::tile(ptrs, w, kq, init),
                    _ => simd::vnni256::tile(ptrs, w, kq, init),
                };
                for (lane, &a) in acc.iter().enumerate().take(valid) {
                    let d = &mut out[(px + lane) * c + oc0..][..width];
                    requant8(a, &grp.rq, &l.out, d);
                }
            }
        }
        px += PX;
    }
}

/// The copies of [`chunk`] compiled for each level's features.
macro_rules! chunk_at_level {
    ($($(#[$m:meta])* $name:ident, $feat:literal, $lv:ident;)*) => {$(
        $(#[$m])*
        #[target_feature(enable = $feat)]
        unsafe fn $name(l: &Layer<'_>, rows: &mut Rows, ch: Chunk<'_>, out: &mut [i8]) {
            // SAFETY: compiled for (and only called with) the level's features.
            unsafe { chunk::<{ Level::$lv as u8 }>(l, rows, ch, out) }
        }
    )*};
}

chunk_at_level! {
    /// [`chunk`] compiled for AVX2.
    chunk_avx2, "avx2", Avx2;
    /// [`chunk`] compiled for AVX-VNNI.
    chunk_avxvnni, "avx2,avxvnni", AvxVnni;
    /// [`chunk`] compiled for AVX-512 VNNI.
    chunk_avx512, "avx2,avx512f,avx512bw,avx512vl,avx512vnni", Avx512Vnni;
}
