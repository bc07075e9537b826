//! Host kernels (x86-64): `sum(x[i] * w[i]) + offset * sum(w[i])` with SSE2 (part of
//! the x86-64 baseline) `PMADDWD`, 16 lanes per step. Wrapping `i32` arithmetic
//! distributes, so the bits equal the portable kernels' (tested below).

use core::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_madd_epi16, _mm_set_epi16,
    _mm_set1_epi16, _mm_setzero_si128, _mm_shuffle_epi32, _mm_srai_epi16, _mm_storeu_si128,
    _mm_unpackhi_epi8, _mm_unpacklo_epi8,
};

use super::portable;
pub use super::portable::{dot2x2_offset, mac4_offset, widen4};

/// The 16 int8 lanes of `v` sign-extended to two vectors of 8 int16.
#[inline(always)]
fn widen(v: __m128i) -> (__m128i, __m128i) {
    // SAFETY: SSE2 is part of the x86-64 baseline; these only touch registers.
    unsafe {
        (
            _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8),
            _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8),
        )
    }
}

/// The wrapping sum of the four `i32` lanes.
#[inline(always)]
fn lanes_sum(v: __m128i) -> i32 {
    // SAFETY: as in `widen`.
    unsafe {
        let v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0b01_00_11_10));
        let v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0b10_11_00_01));
        _mm_cvtsi128_si32(v)
    }
}

/// [`super::dot_offset`] for hosts.
#[inline(always)]
pub fn dot_offset(x: &[i8], w: &[i8], offset: i32) -> i32 {
    let n = x.len().min(w.len());
    let (x, w) = (&x[..n], &w[..n]);
    let mut xc = x.chunks_exact(16);
    let mut wc = w.chunks_exact(16);
    // SAFETY: SSE2 is part of the x86-64 baseline; each unaligned load reads one
    // whole 16-byte chunk of a slice.
    let (xw, ws) = unsafe {
        let ones = _mm_set1_epi16(1);
        let (mut xw, mut ws) = (_mm_setzero_si128(), _mm_setzero_si128());
        for (a, b) in (&mut xc).zip(&mut wc) {
            let (a0, a1) = widen(_mm_loadu_si128(a.as_ptr().cast()));
            let (b0, b1) = widen(_mm_loadu_si128(b.as_ptr().cast()));
            xw = _mm_add_epi32(xw, _mm_madd_epi16(a0, b0));
            xw = _mm_add_epi32(xw, _mm_madd_epi16(a1, b1));
            ws = _mm_add_epi32(ws, _mm_madd_epi16(b0, ones));
            ws = _mm_add_epi32(ws, _mm_madd_epi16(b1, ones));
        }
        (lanes_sum(xw), lanes_sum(ws))
    };
    let acc = xw.wrapping_add(offset.wrapping_mul(ws));
    portable::dot_acc(acc, xc.remainder(), wc.remainder(), offset)
}

/// [`super::quad_dot`] for hosts: per chunk, the words of pixels 0–1 and 2–3 are
/// two vectors of int16 `(x0, x2, x1, x3)` per pixel, multiplied by
/// `(w0, w2, w1, w3)` with `PMADDWD`.
#[inline(always)]
pub fn quad_dot(xs: &[u32], w: &[i8], acc: [i32; 4]) -> [i32; 4] {
    let mut pairs = [[0i32; 4]; 2];
    let chunks = xs.chunks_exact(8).zip(w.chunks_exact(4));
    // SAFETY: SSE2 is part of the x86-64 baseline; each unaligned load reads 4
    // whole words of an 8-word chunk, each store writes one 4-lane array.
    unsafe {
        let (mut lo, mut hi) = (_mm_setzero_si128(), _mm_setzero_si128());
        for (xc, wc) in chunks {
            let (w0, w1, w2, w3) = (
                i16::from(wc[0]),
                i16::from(wc[1]),
                i16::from(wc[2]),
                i16::from(wc[3]),
            );
            let wv = _mm_set_epi16(w3, w1, w2, w0, w3, w1, w2, w0);
            let p01 = _mm_loadu_si128(xc[..4].as_ptr().cast());
            let p23 = _mm_loadu_si128(xc[4..].as_ptr().cast());
            lo = _mm_add_epi32(lo, _mm_madd_epi16(p01, wv));
            hi = _mm_add_epi32(hi, _mm_madd_epi16(p23, wv));
        }
        _mm_storeu_si128(pairs[0].as_mut_ptr().cast(), lo);
        _mm_storeu_si128(pairs[1].as_mut_ptr().cast(), hi);
    }
    let [a0, a1, a2, a3] = acc;
    let [[p0a, p0b, p1a, p1b], [p2a, p2b, p3a, p3b]] = pairs;
    [
        a0.wrapping_add(p0a).wrapping_add(p0b),
        a1.wrapping_add(p1a).wrapping_add(p1b),
        a2.wrapping_add(p2a).wrapping_add(p2b),
        a3.wrapping_add(p3a).wrapping_add(p3b),
    ]
}

/// [`super::dot2_offset`] for hosts.
#[inline(always)]
pub fn dot2_offset(x: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> (i32, i32) {
    (dot_offset(x, w0, offset), dot_offset(x, w1, offset))
}

#[cfg(test)]
mod tests {
    use super::portable;
    use crate::test_rng::XorShift;

    #[test]
    fn host_kernels_equal_the_portable_ones() {
        let mut rng = XorShift::new(0x2545_F491);
        let mut v = [0i8; 3 * 700];
        for round in 0..30 {
            for x in v.iter_mut() {
                *x = rng.next_i8();
            }
            if round == 0 {
                v.fill(-128);
            }
            let (x, w) = v.split_at(700);
            let (w0, w1) = w.split_at(700);
            let xs: [u32; 8 * 20] = core::array::from_fn(|i| {
                let (a, b) = (v[2 * i], v[2 * i + 1]);
                u32::from((i32::from(a) + 128) as u16)
                    | u32::from((i32::from(b) - 127) as u16) << 16
            });
            for chunks in [0, 1, 5, 20] {
                let acc = [i32::MAX, -7, 0, i32::MIN];
                assert_eq!(
                    super::quad_dot(&xs[..8 * chunks], &w[..4 * chunks], acc),
                    portable::quad_dot(&xs[..8 * chunks], &w[..4 * chunks], acc)
                );
            }
            for offset in [-127, -1, 0, 1, 57, 128] {
                for n in [0, 1, 7, 16, 33, 640, 700] {
                    assert_eq!(
                        super::dot_offset(&x[..n], &w0[..n], offset),
                        portable::dot_offset(&x[..n], &w0[..n], offset)
                    );
                    assert_eq!(
                        super::dot2_offset(&x[..n], &w0[..n], &w1[..n], offset),
                        portable::dot2_offset(&x[..n], &w0[..n], &w1[..n], offset)
                    );
                }
            }
        }
    }
}
