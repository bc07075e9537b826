//! Requantization of 8 (AVX2) or 16 (AVX-512) output channels at once, lane by lane
//! the steps of [`Requant::apply`] (TFLite's `MultiplyByQuantizedMultiplier`, the
//! output offset, the clamp and the `as i8`), bit for bit.

use core::arch::x86_64::{
    __m256i, __m512i, _mm_cvtsi128_si64, _mm_mask_storeu_epi8, _mm256_add_epi32, _mm256_add_epi64,
    _mm256_and_si256, _mm256_blend_epi32, _mm256_castsi256_si128, _mm256_cmpeq_epi32,
    _mm256_cmpgt_epi32, _mm256_loadu_si256, _mm256_max_epi32, _mm256_min_epi32, _mm256_mul_epi32,
    _mm256_mullo_epi32, _mm256_permutevar8x32_epi32, _mm256_set1_epi32, _mm256_set1_epi64x,
    _mm256_setr_epi8, _mm256_setr_epi32, _mm256_setzero_si256, _mm256_shuffle_epi8,
    _mm256_slli_epi64, _mm256_srav_epi32, _mm256_srli_epi64, _mm256_storeu_si256, _mm256_sub_epi32,
    _mm256_xor_si256, _mm512_add_epi32, _mm512_add_epi64, _mm512_and_si512,
    _mm512_cmpeq_epi32_mask, _mm512_cmpgt_epi32_mask, _mm512_cmplt_epi32_mask,
    _mm512_cvtepi32_epi8, _mm512_loadu_si512, _mm512_mask_add_epi32, _mm512_mask_blend_epi32,
    _mm512_mask_mov_epi32, _mm512_max_epi32, _mm512_min_epi32, _mm512_mul_epi32,
    _mm512_mullo_epi32, _mm512_set1_epi32, _mm512_set1_epi64, _mm512_setzero_si512,
    _mm512_slli_epi64, _mm512_srav_epi32, _mm512_srli_epi64, _mm512_storeu_si512,
};

use crate::kernels::requant::Requant;

/// What every output channel of a layer shares: the output offset and the clamp.
#[derive(Clone, Copy)]
pub(super) struct Out {
    /// The output zero point.
    pub(super) offset: i32,
    /// The activation minimum.
    pub(super) lo: i32,
    /// The activation maximum.
    pub(super) hi: i32,
}

/// The requantization of `N` output channels (8 or 16), worked out per lane once.
#[derive(Clone, Copy)]
pub(super) struct Rq<const N: usize> {
    mult: [i32; N],
    shift: [i32; N],
    left: [i32; N],
    right: [i32; N],
    mask: [i32; N],
    half: [i32; N],
    /// Whether every shift is in `-31..=31` (else the lanes go through [`Requant`]).
    vector: bool,
}

impl<const N: usize> Rq<N> {
    /// The requantization of lanes `0..N`, lane `j` from `channel(j)` (a
    /// `(multiplier, shift)` pair, as `ChannelQuant::channel` gives).
    pub(super) fn new(channel: impl Fn(usize) -> (i32, i32)) -> Self {
        let mut r = Rq {
            mult: [0; N],
            shift: [0; N],
            left: [0; N],
            right: [0; N],
            mask: [0; N],
            half: [0; N],
            vector: true,
        };
        for j in 0..N {
            let (m, s) = channel(j);
            r.vector &= (-31..=31).contains(&s);
            let right = if s > 0 { 0 } else { s.wrapping_neg() } as u32;
            let mask = 1i64.wrapping_shl(right).wrapping_sub(1) as i32;
            r.mult[j] = m;
            r.shift[j] = s;
            r.left[j] = 1i32.wrapping_shl(if s > 0 { s as u32 } else { 0 });
            r.right[j] = (right & 31) as i32;
            r.mask[j] = mask;
            r.half[j] = mask >> 1;
        }
        r
    }

    /// Lanes `0..dst.len()` through [`Requant`] (shifts a valid model never has).
    #[cold]
    #[inline(never)]
    fn scalar(&self, acc: &[i32], o: &Out, dst: &mut [i8]) {
        for ((d, &a), j) in dst.iter_mut().zip(acc).zip(0..) {
            *d = Requant::new((self.mult[j], self.shift[j]), o.offset, o.lo, o.hi).apply(a);
        }
    }
}

/// Loads the first 8 lanes of `a` (`N >= 8`).
///
/// # Safety
/// The CPU has AVX2; `a` has at least 8 lanes.
#[inline(always)]
unsafe fn ld<const N: usize>(a: &[i32; N]) -> __m256i {
    // SAFETY: reads 32 bytes of `a` (the caller's contract).
    unsafe { _mm256_loadu_si256(a.as_ptr().cast()) }
}

/// The 8 lanes of `v`.
///
/// # Safety
/// The CPU has AVX2 (every caller is compiled for it and inlines this).
#[inline(always)]
pub(super) unsafe fn lanes(v: __m256i) -> [i32; 8] {
    let mut a = [0i32; 8];
    // SAFETY: writes the 32 bytes of `a`; AVX2 is the caller's contract.
    unsafe { _mm256_storeu_si256(a.as_mut_ptr().cast(), v) };
    a
}

/// Requantizes the 8 accumulators `acc` (lanes `0..8` of `rq`) into `dst` (its first
/// `dst.len().min(8)` lanes).
///
/// # Safety
/// The CPU has AVX2 (every caller is compiled for it and inlines this); `N >= 8`.
#[inline(always)]
pub(super) unsafe fn requant8<const N: usize>(acc: __m256i, rq: &Rq<N>, o: &Out, dst: &mut [i8]) {
    // SAFETY: AVX2 and `N >= 8` are the caller's contract.
    unsafe {
        if !rq.vector {
            return rq.scalar(&lanes(acc), o, dst);
        }
        // `srdhm(acc * left, mult)`: `(x * m + 2^30) >> 31` per lane, from the 64-bit
        // products of the even and the odd lanes; `MIN * MIN` saturates to `MAX`.
        let x = _mm256_mullo_epi32(acc, ld(&rq.left));
        let m = ld(&rq.mult);
        let nudge = _mm256_set1_epi64x(1 << 30);
        let even = _mm256_srli_epi64::<31>(_mm256_add_epi64(_mm256_mul_epi32(x, m), nudge));
        let odd_x = _mm256_srli_epi64::<32>(x);
        let odd_m = _mm256_srli_epi64::<32>(m);
        let odd = _mm256_slli_epi64::<1>(_mm256_add_epi64(_mm256_mul_epi32(odd_x, odd_m), nudge));
        let min = _mm256_set1_epi32(i32::MIN);
        let sat = _mm256_and_si256(_mm256_cmpeq_epi32(x, min), _mm256_cmpeq_epi32(m, min));
        let h = _mm256_xor_si256(_mm256_blend_epi32::<0b1010_1010>(even, odd), sat);
        // `rdbpot(h, right)`: round half away from zero.
        let rem = _mm256_and_si256(h, ld(&rq.mask));
        let negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), h);
        let threshold = _mm256_sub_epi32(ld(&rq.half), negative);
        let v = _mm256_srav_epi32(h, ld(&rq.right));
        let v = _mm256_sub_epi32(v, _mm256_cmpgt_epi32(rem, threshold));
        let v = _mm256_add_epi32(v, _mm256_set1_epi32(o.offset));
        let v = _mm256_min_epi32(
            _mm256_max_epi32(v, _mm256_set1_epi32(o.lo)),
            _mm256_set1_epi32(o.hi),
        );
        // The low byte of each lane (`as i8`), gathered into the low 8 bytes.
        let pick = _mm256_setr_epi8(
            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1, -1, -1,
            -1, -1, -1, -1, -1, -1, -1, -1, -1,
        );
        let bytes = _mm256_shuffle_epi8(v, pick);
        let packed = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
        let low = _mm_cvtsi128_si64(_mm256_castsi256_si128(packed));
        if dst.len() >= 8 {
            // Writes the first 8 bytes of `dst`.
            dst.as_mut_ptr().cast::<i64>().write_unaligned(low);
        } else {
            for (d, b) in dst.iter_mut().zip(low.to_le_bytes()) {
                *d = b as i8;
            }
        }
    }
}

/// [`requant8`] for 16 lanes with AVX-512 (`dst`: its first `dst.len().min(16)`).
///
/// # Safety
/// The CPU has AVX-512 F/BW/VL (every caller is compiled for it and inlines this).
#[inline(always)]
pub(super) unsafe fn requant16(acc: __m512i, rq: &Rq<16>, o: &Out, dst: &mut [i8]) {
    // SAFETY: AVX-512 is the caller's contract; the loads and stores cover whole
    // 16-lane arrays.
    unsafe {
        let ld = |a: &[i32; 16]| _mm512_loadu_si512(a.as_ptr().cast());
        if !rq.vector {
            let mut a = [0i32; 16];
            _mm512_storeu_si512(a.as_mut_ptr().cast(), acc);
            return rq.scalar(&a, o, dst);
        }
        let x = _mm512_mullo_epi32(acc, ld(&rq.left));
        let m = ld(&rq.mult);
        let nudge = _mm512_set1_epi64(1 << 30);
        let even = _mm512_srli_epi64::<31>(_mm512_add_epi64(_mm512_mul_epi32(x, m), nudge));
        let odd_x = _mm512_srli_epi64::<32>(x);
        let odd_m = _mm512_srli_epi64::<32>(m);
        let odd = _mm512_slli_epi64::<1>(_mm512_add_epi64(_mm512_mul_epi32(odd_x, odd_m), nudge));
        let h = _mm512_mask_blend_epi32(0xaaaa, even, odd);
        let min = _mm512_set1_epi32(i32::MIN);
        let sat = _mm512_cmpeq_epi32_mask(x, min) & _mm512_cmpeq_epi32_mask(m, min);
        let h = _mm512_mask_mov_epi32(h, sat, _mm512_set1_epi32(i32::MAX));
        let one = _mm512_set1_epi32(1);
        let rem = _mm512_and_si512(h, ld(&rq.mask));
        let negative = _mm512_cmplt_epi32_mask(h, _mm512_setzero_si512());
        let half = ld(&rq.half);
        let threshold = _mm512_mask_add_epi32(half, negative, half, one);
        let v = _mm512_srav_epi32(h, ld(&rq.right));
        let up = _mm512_cmpgt_epi32_mask(rem, threshold);
        let v = _mm512_mask_add_epi32(v, up, v, one);
        let v = _mm512_add_epi32(v, _mm512_set1_epi32(o.offset));
        let v = _mm512_min_epi32(
            _mm512_max_epi32(v, _mm512_set1_epi32(o.lo)),
            _mm512_set1_epi32(o.hi),
        );
        // Writes the first `min(len, 16)` bytes of `dst` only.
        let n = dst.len().min(16);
        let keep = ((1u32 << n) - 1) as u16;
        _mm_mask_storeu_epi8(dst.as_mut_ptr(), keep, _mm512_cvtepi32_epi8(v));
    }
}
