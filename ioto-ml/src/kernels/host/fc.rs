//! int8 FULLY_CONNECTED (symmetric weights) on the host: per batch the input is
//! flipped to `u` bytes once, then output channels go eight rows at a time through
//! the level's `rows8` (32 reduction values per step, a scalar tail) into one vector
//! of eight channels, requantized at once.

use core::arch::x86_64::{
    _mm256_add_epi32, _mm256_loadu_si256, _mm256_mullo_epi32, _mm256_set1_epi32,
};
use core::mem::MaybeUninit;

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
