//! The dot-product loops of the host kernels, one copy per [`Level`](super::Level)
//! (`#[target_feature]`): a convolution tile ([`PX`] pixels × 8 or 16 output
//! channels, weights re-laid-out four reduction values per lane) and four
//! fully-connected rows against one input.
//!
//! The byte products: `vpdpbusd` (VNNI) adds four `u8 × i8` products per `i32` lane.
//! AVX2 has no exact equivalent (`vpmaddubsw` saturates), so [`avx2`] splits both
//! operands into even and odd bytes widened to `i16` and adds two `vpmaddwd`s.

use core::arch::x86_64::{
    __m256i, __m512i, __mmask64, _mm256_add_epi32, _mm256_and_si256, _mm256_dpbusd_avx_epi32,
    _mm256_dpbusd_epi32, _mm256_hadd_epi32, _mm256_loadu_si256, _mm256_madd_epi16,
    _mm256_permute2x128_si256, _mm256_set1_epi8, _mm256_set1_epi16, _mm256_set1_epi32,
    _mm256_setzero_si256, _mm256_slli_epi16, _mm256_srai_epi16, _mm256_srli_epi16,
    _mm512_castsi512_si256, _mm512_dpbusd_epi32, _mm512_extracti64x4_epi64, _mm512_loadu_si512,
    _mm512_maskz_loadu_epi8, _mm512_set1_epi8, _mm512_set1_epi32, _mm512_setzero_si512,
};

/// Pixels per convolution tile.
pub(super) const PX: usize = 4;

/// The wrapping sums of the 8 lanes of each of eight vectors, in order.
///
/// # Safety
/// The CPU has AVX2 (every caller is compiled for it and inlines this).
#[inline(always)]
unsafe fn hsum8(v: [__m256i; 8]) -> __m256i {
    // SAFETY: AVX2 is the caller's contract.
    unsafe {
        let g0 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
        let g1 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
        // Each 128-bit half holds rows 0-3 (g0) or 4-7 (g1) over half the lanes.
        _mm256_add_epi32(
            _mm256_permute2x128_si256::<0x20>(g0, g1),
            _mm256_permute2x128_si256::<0x31>(g0, g1),
        )
    }
}

/// Identity: the VNNI levels take their operands as they are.
///
/// # Safety
/// None (unsafe only to match [`split_u`] in the level macro).
#[inline(always)]
unsafe fn same(v: __m256i) -> __m256i {
    v
}

/// AVX2: the even and odd unsigned bytes of `v` as `i16`.
///
/// # Safety
/// The CPU has AVX2 (every caller is compiled for it and inlines this).
#[inline(always)]
unsafe fn split_u(v: __m256i) -> (__m256i, __m256i) {
    // SAFETY: AVX2 is the caller's contract.
    unsafe {
        (
            _mm256_and_si256(v, _mm256_set1_epi16(0xff)),
            _mm256_srli_epi16::<8>(v),
        )
    }
}

/// AVX2: the even and odd signed bytes of `v` as `i16`.
///
/// # Safety
/// The CPU has AVX2 (every caller is compiled for it and inlines this).
#[inline(always)]
unsafe fn split_w(v: __m256i) -> (__m256i, __m256i) {
    // SAFETY: AVX2 is the caller's contract.
    unsafe {
        (
            _mm256_srai_epi16::<8>(_mm256_slli_epi16::<8>(v)),
            _mm256_srai_epi16::<8>(v),
        )
    }
}

/// AVX2 `vpdpbusd`: `acc` plus, per lane, the four `u8 × i8` products (exact).
///
/// # Safety
/// The CPU has AVX2 (every caller is compiled for it and inlines this).
#[inline(always)]
unsafe fn dp_avx2(acc: __m256i, u: (__m256i, __m256i), w: (__m256i, __m256i)) -> __m256i {
    // SAFETY: AVX2 is the caller's contract.
    unsafe {
        let s = _mm256_add_epi32(_mm256_madd_epi16(u.0, w.0), _mm256_madd_epi16(u.1, w.1));
        _mm256_add_epi32(acc, s)
    }
}

/// Reads 4 bytes at `p` as one lane value.
///
/// # Safety
/// `p..p + 4` must be readable.
#[inline(always)]
unsafe fn word(p: *const u8) -> i32 {
    // SAFETY: the caller guarantees the 4 bytes.
    unsafe { p.cast::<i32>().read_unaligned() }
}

/// The 256-bit loops of one level: `$prep_u` / `$prep_w` turn loaded `u8` / `i8`
/// vectors into the operands of `$dp`, which adds their byte products into an
/// accumulator.
macro_rules! ymm_level {
    ($(#[$m:meta])* $name:ident, $feat:literal, $prep_u:path, $prep_w:path, $dp:path) => {
        $(#[$m])*
        pub(super) mod $name {
            use super::*;

            /// One tile: [`PX`] rows of `u` (`4 * kq` bytes each) against 8 output
            /// channels whose weights lie at `w` (`kq` blocks of 32 bytes: 4 per
            /// lane), each accumulator starting at `init`.
            ///
            /// # Safety
            /// The CPU has the level's features; each row holds `4 * kq` bytes and
            /// `w` `32 * kq`.
            #[target_feature(enable = $feat)]
            pub(in super::super) unsafe fn tile(
                rows: [*const u8; PX],
                w: *const u8,
                kq: usize,
                init: __m256i,
            ) -> [__m256i; PX] {
                let mut acc = [init; PX];
                for q in 0..kq {
                    // SAFETY: block `q` of `w` and bytes `4q..4q + 4` of each row are
                    // in bounds, and the CPU has the features (the caller's contract).
                    unsafe {
                        let wv = $prep_w(_mm256_loadu_si256(w.add(32 * q).cast()));
                        for (a, r) in acc.iter_mut().zip(rows) {
                            let u = _mm256_set1_epi32(word(r.add(4 * q)));
                            *a = $dp(*a, $prep_u(u), wv);
                        }
                    }
                }
                acc
            }

            /// `G` groups of 8 output channels against one row `u` (`4 * kq`
            /// bytes): block `q` of group `g` (32 bytes, 4 per lane) lies at
            /// `w + 32 * (q * G + g)`; group `g`'s accumulator starts at `init[g]`.
            ///
            /// # Safety
            /// The CPU has the level's features; `u` holds `4 * kq` bytes and `w`
            /// `32 * G * kq`.
            #[cfg(any(feature = "std", test))]
            #[target_feature(enable = $feat)]
            pub(in super::super) unsafe fn gemv<const G: usize>(
                u: *const u8,
                w: *const u8,
                kq: usize,
                init: [__m256i; G],
            ) -> [__m256i; G] {
                // SAFETY: bytes `4q..4q + 4` of `u` and block `q` of each group are
                // in bounds, and the CPU has the features (the caller's contract).
                unsafe {
                    let blk = |q: usize, g: usize| {
                        $prep_w(_mm256_loadu_si256(w.add(32 * (q * G + g)).cast()))
                    };
                    let bc = |q: usize| $prep_u(_mm256_set1_epi32(word(u.add(4 * q))));
                    // Two accumulators per group (even and odd steps) halve the
                    // dependency chains.
                    let (mut a, mut b) = (init, [_mm256_setzero_si256(); G]);
                    let mut q = 0;
                    while q + 2 <= kq {
                        let (u0, u1) = (bc(q), bc(q + 1));
                        for g in 0..G {
                            a[g] = $dp(a[g], u0, blk(q, g));
                            b[g] = $dp(b[g], u1, blk(q + 1, g));
                        }
                        q += 2;
                    }
                    if q < kq {
                        let u0 = bc(q);
                        for (g, x) in a.iter_mut().enumerate() {
                            *x = $dp(*x, u0, blk(q, g));
                        }
                    }
                    for (x, y) in a.iter_mut().zip(b) {
                        *x = _mm256_add_epi32(*x, y);
                    }
                    a
                }
            }

            /// Eight weight rows `w` against `u`, `32 * n` bytes each: per row (lane)
            /// the wrapping `sum(u[i] * w[r][i])` and, with `sums`, `sum(w[r][i])`.
            ///
            /// # Safety
            /// The CPU has the level's features; `u` and every row hold `32 * n`
            /// bytes.
            #[target_feature(enable = $feat)]
            pub(in super::super) unsafe fn rows8(
                u: *const u8,
                w: [*const i8; 8],
                n: usize,
                sums: bool,
            ) -> (__m256i, __m256i) {
                // SAFETY: bytes `32i..32i + 32` of `u` and of each row are in bounds,
                // and the CPU has the features (the caller's contract).
                unsafe {
                    let z = _mm256_setzero_si256();
                    let ones = $prep_u(_mm256_set1_epi8(1));
                    let (mut d, mut s) = ([z; 8], [z; 8]);
                    for i in 0..n {
                        let uv = $prep_u(_mm256_loadu_si256(u.add(32 * i).cast()));
                        for r in 0..8 {
                            let wv = $prep_w(_mm256_loadu_si256(w[r].add(32 * i).cast()));
                            d[r] = $dp(d[r], uv, wv);
                            if sums {
                                s[r] = $dp(s[r], ones, wv);
                            }
                        }
                    }
                    (hsum8(d), if sums { hsum8(s) } else { z })
                }
            }
        }
    };
}

ymm_level!(
    /// AVX2 (`vpmaddwd` on the split bytes).
    avx2, "avx2", split_u, split_w, dp_avx2
);
ymm_level!(
    /// AVX-VNNI (`vpdpbusd`, VEX encoding).
    avxvnni, "avx2,avxvnni", same, same, _mm256_dpbusd_avx_epi32
);
ymm_level!(
    /// AVX-512 VNNI on 256-bit vectors (`vpdpbusd`, EVEX encoding), for layers of
    /// at most 8 output channels (its `rows8` is unused: [`rows8_512`] serves the
    /// fully-connected layers at this level).
    #[allow(dead_code)]
    vnni256, "avx2,avx512f,avx512bw,avx512vl,avx512vnni", same, same, _mm256_dpbusd_epi32
);

/// [`avx2::tile`] on 512-bit vectors for two groups of 16 output channels at once
/// (each broadcast input word feeds both): `w` holds each group's weights in blocks
/// of 64 bytes, `init` their starting accumulators.
///
/// # Safety
/// The CPU has AVX-512 F/BW/VL and VNNI; each row holds `4 * kq` bytes and each
/// `w` `64 * kq`.
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(super) unsafe fn tile16x2(
    rows: [*const u8; PX],
    w: [*const u8; 2],
    kq: usize,
    init: [&[i32; 16]; 2],
) -> [[__m512i; PX]; 2] {
    // SAFETY: block `q` of each `w`, bytes `4q..4q + 4` of each row and the 64 bytes
    // of each `init` are in bounds (the caller's contract).
    unsafe {
        let mut a0 = [_mm512_loadu_si512(init[0].as_ptr().cast()); PX];
        let mut a1 = [_mm512_loadu_si512(init[1].as_ptr().cast()); PX];
        for q in 0..kq {
            let w0 = _mm512_loadu_si512(w[0].add(64 * q).cast());
            let w1 = _mm512_loadu_si512(w[1].add(64 * q).cast());
            for r in 0..PX {
                let u = _mm512_set1_epi32(word(rows[r].add(4 * q)));
                a0[r] = _mm512_dpbusd_epi32(a0[r], u, w0);
                a1[r] = _mm512_dpbusd_epi32(a1[r], u, w1);
            }
        }
        [a0, a1]
    }
}

/// [`avx2::gemv`] for `G` groups of 16 output channels on 512-bit vectors (blocks
/// of 64 bytes).
///
/// # Safety
/// The CPU has AVX-512 F/BW/VL and VNNI; `u` holds `4 * kq` bytes and `w`
/// `64 * G * kq`.
#[cfg(any(feature = "std", test))]
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(super) unsafe fn gemv16<const G: usize>(
    u: *const u8,
    w: *const u8,
    kq: usize,
    init: [&[i32; 16]; G],
) -> [__m512i; G] {
    // SAFETY: bytes `4q..4q + 4` of `u`, block `q` of each group and the 64 bytes of
    // each `init` are in bounds (the caller's contract).
    unsafe {
        let blk = |q: usize, g: usize| _mm512_loadu_si512(w.add(64 * (q * G + g)).cast());
        let bc = |q: usize| _mm512_set1_epi32(word(u.add(4 * q)));
        let mut a = init.map(|b| _mm512_loadu_si512(b.as_ptr().cast()));
        let mut b = [_mm512_setzero_si512(); G];
        let mut q = 0;
        while q + 2 <= kq {
            let (u0, u1) = (bc(q), bc(q + 1));
            for g in 0..G {
                a[g] = _mm512_dpbusd_epi32(a[g], u0, blk(q, g));
                b[g] = _mm512_dpbusd_epi32(b[g], u1, blk(q + 1, g));
            }
            q += 2;
        }
        if q < kq {
            let u0 = bc(q);
            for (g, x) in a.iter_mut().enumerate() {
                *x = _mm512_dpbusd_epi32(*x, u0, blk(q, g));
            }
        }
        for (x, y) in a.iter_mut().zip(b) {
            *x = core::arch::x86_64::_mm512_add_epi32(*x, y);
        }
        a
    }
}

/// [`avx2::rows8`] on 512-bit vectors over all `len` bytes of `u` and of each row
/// (the last step masked: no scalar tail).
///
/// # Safety
/// The CPU has AVX-512 F/BW/VL and VNNI; `u` and every row hold `len` bytes.
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(super) unsafe fn rows8_512(
    u: *const u8,
    w: [*const i8; 8],
    len: usize,
    sums: bool,
) -> (__m256i, __m256i) {
    // SAFETY: every load reads bytes `64i..min(64i + 64, len)` (the last one masked)
    // of `u` and of each row, in bounds by the caller's contract.
    unsafe {
        let z = _mm512_setzero_si512();
        let ones = _mm512_set1_epi8(1);
        let (mut d, mut s) = ([z; 8], [z; 8]);
        let mut at = 0;
        while at < len {
            let keep: __mmask64 = if len - at >= 64 {
                !0
            } else {
                (1u64 << (len - at)) - 1
            };
            let uv = _mm512_maskz_loadu_epi8(keep, u.add(at).cast());
            for r in 0..8 {
                let wv = _mm512_maskz_loadu_epi8(keep, w[r].add(at));
                d[r] = _mm512_dpbusd_epi32(d[r], uv, wv);
                if sums {
                    s[r] = _mm512_dpbusd_epi32(s[r], ones, wv);
                }
            }
            at += 64;
        }
        let fold = |v: __m512i| {
            _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v))
        };
        let sum8 = |v: [__m512i; 8]| hsum8(v.map(fold));
        (
            sum8(d),
            if sums {
                sum8(s)
            } else {
                _mm256_setzero_si256()
            },
        )
    }
}
