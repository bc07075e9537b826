//! int8 FULLY_CONNECTED (symmetric weights) on the host: per batch the input is
//! flipped to `u` bytes once, then output channels go eight rows at a time through
//! the level's `rows8` (32 reduction values per step, a scalar tail) into one vector
//! of eight channels, requantized at once. With the interpreter's cache
//! (`super::cache`, `std`) the layer instead runs from its `Packed` form, made
//! once: output channels across the lanes (8, or 16 with AVX-512), four reduction
//! values per lane, the weight sums already in the biases.

use core::arch::x86_64::{
    _mm256_add_epi32, _mm256_loadu_si256, _mm256_mullo_epi32, _mm256_set1_epi32,
};
use core::mem::MaybeUninit;

#[cfg(any(feature = "std", test))]
use super::requant::requant16;
use super::requant::{Out, Rq, requant8};
use super::simd;
use super::{Level, assume_init, size};
use crate::kernels::data::{as_i8, read_i32};
use crate::kernels::fully_connected::FcParams;
use crate::kernels::requant::ChannelQuant;

/// The longest input row taken.
const MAX_ACCUM: usize = 8192;

/// What the loops of one layer read.
struct Layer<'a> {
    batches: usize,
    accum: usize,
    depth: usize,
    input: &'a [i8],
    filter: &'a [i8],
    bias: &'a [u8],
    q: &'a ChannelQuant<'a>,
    /// `input_offset - 128`: the weight sums' factor.
    correction: i32,
    out: Out,
}

/// Runs an int8 FULLY_CONNECTED whose weights have no offset at `level` (AVX2 or
/// above) into `out`; false, having written nothing, for anything else (float,
/// weight offset, input rows over [`MAX_ACCUM`], inconsistent sizes).
pub(super) fn run(
    level: Level,
    p: &FcParams,
    q: &ChannelQuant<'_>,
    [input, filter, bias]: [&[u8]; 3],
    out: &mut [i8],
) -> bool {
    let (Some(batches), Some(accum), Some(depth)) =
        (size(&[p.batches]), size(&[p.accum]), size(&[p.out_depth]))
    else {
        return false;
    };
    if level < Level::Avx2
        || p.is_float != 0
        || p.filter_offset != 0
        || accum > MAX_ACCUM
        || !(-127..=128).contains(&p.input_offset)
        || batches.checked_mul(accum).is_none_or(|n| input.len() < n)
        || depth.checked_mul(accum).is_none_or(|n| filter.len() < n)
        || batches.checked_mul(depth).is_none_or(|n| out.len() < n)
    {
        return false;
    }
    let l = Layer {
        batches,
        accum,
        depth,
        input: as_i8(input),
        filter: as_i8(filter),
        bias,
        q,
        correction: p.input_offset.wrapping_sub(128),
        out: Out {
            offset: p.output_offset,
            lo: p.act_min,
            hi: p.act_max,
        },
    };
    #[cfg(any(feature = "std", test))]
    {
        use super::cache::{Data, key, with};
        let (filter, corr) = (l.filter, l.correction as usize);
        let key = key(filter, bias, [l.accum, l.depth, corr, level as usize]);
        let make = || Data::Fc(Packed::new(&l, level));
        if with(key, Data::fc, make, |p| p.run(level, &l, out)).is_some() {
            return true;
        }
    }
    // SAFETY: `level` is supported (`super::level` and `set_level` check it).
    unsafe {
        match level {
            Level::Sse2 => {}
            Level::Avx2 => fc_avx2(&l, out),
            Level::AvxVnni => fc_avxvnni(&l, out),
            Level::Avx512Vnni => fc_avx512(&l, out),
        }
    }
    true
}

/// A fully-connected layer's weights re-laid-out for [`simd::gemv16`] (16 lanes,
/// AVX-512) or the levels' `gemv` (8 lanes): groups of `lanes` output channels, four
/// reduction values per lane, in units of four groups (then single groups) whose
/// blocks interleave; with each group's bias (the weight sums folded in) and
/// requantization. The cache's entry, see [`super::cache`].
#[cfg(any(feature = "std", test))]
pub(super) struct Packed {
    lanes: usize,
    kq: usize,
    groups: usize,
    w: std::vec::Vec<u8>,
    bias: std::vec::Vec<[i32; 16]>,
    rq: std::vec::Vec<Rq<16>>,
    /// The input row as `u` bytes, zero-padded to `4 * kq`.
    u: std::vec::Vec<u8>,
}

#[cfg(any(feature = "std", test))]
impl Packed {
    /// Lays out `l`'s weights, biases and requantization for `level`.
    fn new(l: &Layer<'_>, level: Level) -> Self {
        let lanes = if level == Level::Avx512Vnni { 16 } else { 8 };
        let (accum, depth) = (l.accum, l.depth);
        let kq = accum.div_ceil(4);
        let groups = depth.div_ceil(lanes);
        let gbytes = lanes * 4 * kq;
        let mut w = std::vec![0u8; groups * gbytes];
        let mut g0 = 0;
        while g0 < groups {
            let n = if g0 + 4 <= groups { 4 } else { 1 };
            let unit = &mut w[g0 * gbytes..(g0 + n) * gbytes];
            for (at, d) in unit.iter_mut().enumerate() {
                // Block `q` of group `g`, lane `j`, byte `b`.
                let (b, j) = (at % 4, at / 4 % lanes);
                let (g, q) = (at / 4 / lanes % n, at / (4 * lanes * n));
                let (oc, i) = ((g0 + g) * lanes + j, 4 * q + b);
                if oc < depth && i < accum {
                    *d = l.filter[oc * accum + i] as u8;
                }
            }
            g0 += n;
        }
        let bias = (0..groups)
            .map(|g| {
                core::array::from_fn(|j| {
                    let oc = g * lanes + j;
                    if j >= lanes || oc >= depth {
                        return 0;
                    }
                    let row = &l.filter[oc * accum..(oc + 1) * accum];
                    let wsum = row.iter().fold(0i32, |a, &v| a.wrapping_add(i32::from(v)));
                    read_i32(l.bias, oc).wrapping_add(l.correction.wrapping_mul(wsum))
                })
            })
            .collect();
        let rq = (0..groups)
            .map(|g| {
                Rq::new(|j| {
                    let oc = g * lanes + j;
                    if j < lanes && oc < depth {
                        l.q.channel(oc)
                    } else {
                        (0, 0)
                    }
                })
            })
            .collect();
        Packed {
            lanes,
            kq,
            groups,
            w,
            bias,
            rq,
            u: std::vec![0u8; 4 * kq],
        }
    }
}

#[cfg(any(feature = "std", test))]
impl Packed {
    /// Runs `l` (which this data was made for) at `level`.
    fn run(&mut self, level: Level, l: &Layer<'_>, out: &mut [i8]) {
        // SAFETY: `level` is supported (`super::level` and `set_level` check it).
        unsafe {
            match level {
                Level::Sse2 => {}
                Level::Avx2 => packed_avx2(l, self, out),
                Level::AvxVnni => packed_avxvnni(l, self, out),
                Level::Avx512Vnni => packed_avx512(l, self, out),
            }
        }
    }
}

/// The layer from its [`Packed`] form at level `LV` (`Level as u8`).
///
/// # Safety
/// The CPU has level `LV`'s features (the callers below are compiled for them);
/// `p` was made for `l` at that level.
#[cfg(any(feature = "std", test))]
#[inline(always)]
unsafe fn packed_body<const LV: u8>(l: &Layer<'_>, p: &mut Packed, out: &mut [i8]) {
    let (accum, depth, lanes, kq) = (l.accum, l.depth, p.lanes, p.kq);
    let gbytes = lanes * 4 * kq;
    for b in 0..l.batches {
        let x = &l.input[b * accum..(b + 1) * accum];
        for (d, &v) in p.u.iter_mut().zip(x) {
            *d = (v as u8) ^ 0x80;
        }
        let (u, row) = (p.u.as_ptr(), &mut out[b * depth..(b + 1) * depth]);
        let mut g0 = 0;
        while g0 < p.groups {
            let n = if g0 + 4 <= p.groups { 4 } else { 1 };
            let w = p.w[g0 * gbytes..(g0 + n) * gbytes].as_ptr();
            let dst = |g: usize| (g * lanes, depth.min((g + 1) * lanes));
            // SAFETY: `u` holds `4 * kq` bytes and `w` the unit's `n * gbytes`; the
            // level's features are the caller's contract.
            unsafe {
                macro_rules! unit {
                    ($n:literal) => {
                        if LV == Level::Avx512Vnni as u8 {
                            let init: [_; $n] = core::array::from_fn(|g| &p.bias[g0 + g]);
                            let acc = simd::gemv16::<$n>(u, w, kq, init);
                            for (g, &a) in acc.iter().enumerate() {
                                let (s, e) = dst(g0 + g);
                                requant16(a, &p.rq[g0 + g], &l.out, &mut row[s..e]);
                            }
                        } else {
                            let init: [_; $n] = core::array::from_fn(|g| {
                                _mm256_loadu_si256(p.bias[g0 + g].as_ptr().cast())
                            });
                            let acc = match LV {
                                2 => simd::avx2::gemv::<$n>(u, w, kq, init),
                                _ => simd::avxvnni::gemv::<$n>(u, w, kq, init),
                            };
                            for (g, &a) in acc.iter().enumerate() {
                                let (s, e) = dst(g0 + g);
                                requant8(a, &p.rq[g0 + g], &l.out, &mut row[s..e]);
                            }
                        }
                    };
                }
                if n == 4 {
                    unit!(4);
                } else {
                    unit!(1);
                }
            }
            g0 += n;
        }
    }
}

/// [`packed_body`] compiled for AVX2.
#[cfg(any(feature = "std", test))]
#[target_feature(enable = "avx2")]
unsafe fn packed_avx2(l: &Layer<'_>, p: &mut Packed, out: &mut [i8]) {
    // SAFETY: compiled for (and only called with) AVX2.
    unsafe { packed_body::<{ Level::Avx2 as u8 }>(l, p, out) }
}

/// [`packed_body`] compiled for AVX-VNNI.
#[cfg(any(feature = "std", test))]
#[target_feature(enable = "avx2,avxvnni")]
unsafe fn packed_avxvnni(l: &Layer<'_>, p: &mut Packed, out: &mut [i8]) {
    // SAFETY: compiled for (and only called with) AVX-VNNI.
    unsafe { packed_body::<{ Level::AvxVnni as u8 }>(l, p, out) }
}

/// [`packed_body`] compiled for AVX-512 VNNI.
#[cfg(any(feature = "std", test))]
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn packed_avx512(l: &Layer<'_>, p: &mut Packed, out: &mut [i8]) {
    // SAFETY: compiled for (and only called with) AVX-512 VNNI.
    unsafe { packed_body::<{ Level::Avx512Vnni as u8 }>(l, p, out) }
}

/// The layer at level `LV` (`Level as u8`).
///
/// # Safety
/// The CPU has level `LV`'s features (the callers below are compiled for them).
#[inline(always)]
unsafe fn body<const LV: u8>(l: &Layer<'_>, out: &mut [i8]) {
    let mut buf = [MaybeUninit::<u8>::uninit(); MAX_ACCUM];
    let (accum, depth) = (l.accum, l.depth);
    // AVX-512 covers whole rows (its last step masked); 256-bit levels leave a
    // scalar tail.
    let wide = LV == Level::Avx512Vnni as u8;
    let (steps, tail) = if wide {
        (0, accum)
    } else {
        (accum / 32, accum / 32 * 32)
    };
    let shared = Rq::<8>::new(|_| l.q.channel(0));
    for b in 0..l.batches {
        let x = &l.input[b * accum..(b + 1) * accum];
        for (d, &v) in buf.iter_mut().zip(x) {
            d.write((v as u8) ^ 0x80);
        }
        // SAFETY: the loop above wrote the first `accum` bytes.
        let u = unsafe { assume_init(&buf[..accum]) };
        let mut oc = 0;
        while oc < depth {
            // Rows past the last channel repeat it; their results are dropped.
            let rows: [usize; 8] = core::array::from_fn(|j| (oc + j).min(depth - 1));
            let w = rows.map(|r| l.filter[r * accum..].as_ptr());
            let sums = l.correction != 0;
            // SAFETY: `u` and each row hold `accum >= 32 * steps` bytes; the level's
            // features are the caller's contract.
            let (d, s) = unsafe {
                match LV {
                    2 => simd::avx2::rows8(u.as_ptr(), w, steps, sums),
                    3 => simd::avxvnni::rows8(u.as_ptr(), w, steps, sums),
                    _ => simd::rows8_512(u.as_ptr(), w, accum, sums),
                }
            };
            let mut extra = [0i32; 8];
            for (e, &r) in extra.iter_mut().zip(&rows) {
                let f = &l.filter[r * accum..(r + 1) * accum];
                let (mut dot, mut wsum) = (0i32, 0i32);
                for (&x, &w) in u[tail..].iter().zip(&f[tail..]) {
                    dot = dot.wrapping_add(i32::from(x) * i32::from(w));
                    wsum = wsum.wrapping_add(i32::from(w));
                }
                *e = dot
                    .wrapping_add(l.correction.wrapping_mul(wsum))
                    .wrapping_add(read_i32(l.bias, r));
            }
            let own;
            let rq = if l.q.per_channel() {
                own = Rq::new(|j| l.q.channel(rows[j]));
                &own
            } else {
                &shared
            };
            let dst = &mut out[b * depth + oc..b * depth + depth.min(oc + 8)];
            // SAFETY: reads the 32 bytes of `extra`; AVX2 is the caller's contract.
            unsafe {
                let corr = _mm256_mullo_epi32(_mm256_set1_epi32(l.correction), s);
                let e = _mm256_loadu_si256(extra.as_ptr().cast());
                let acc = _mm256_add_epi32(_mm256_add_epi32(d, corr), e);
                requant8(acc, rq, &l.out, dst);
            }
            oc += 8;
        }
    }
}

/// [`body`] compiled for AVX2.
#[target_feature(enable = "avx2")]
unsafe fn fc_avx2(l: &Layer<'_>, out: &mut [i8]) {
    // SAFETY: compiled for (and only called with) AVX2.
    unsafe { body::<{ Level::Avx2 as u8 }>(l, out) }
}

/// [`body`] compiled for AVX-VNNI.
#[target_feature(enable = "avx2,avxvnni")]
unsafe fn fc_avxvnni(l: &Layer<'_>, out: &mut [i8]) {
    // SAFETY: compiled for (and only called with) AVX-VNNI.
    unsafe { body::<{ Level::AvxVnni as u8 }>(l, out) }
}

/// [`body`] compiled for AVX-512 VNNI (256-bit vectors: rows are short).
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn fc_avx512(l: &Layer<'_>, out: &mut [i8]) {
    // SAFETY: compiled for (and only called with) AVX-512 VNNI.
    unsafe { body::<{ Level::Avx512Vnni as u8 }>(l, out) }
}
