//! Inner dot products of the int8 kernels: portable, Cortex-M4 DSP and x86-64 SSE2.
//!
//! [`dot_offset`] is `sum((x[i] + offset) * w[i])` with wrapping `i32` arithmetic.
//! On `thumbv7em` with the `dsp` feature the optimized version widens four int8
//! lanes at a time with `SXTAB16`/`SXTB16` and accumulates pairs with `SMLAD`; on
//! x86-64 hosts (gateways, the CLI) `PMADDWD` does 8 pairs at a time. Both produce
//! the same bits as the portable kernels (tested on target and on host).

/// Portable `sum((x[i] + offset) * w[i])`; `x` and `w` have the same length.
#[inline(always)]
pub fn dot_offset_portable(x: &[i8], w: &[i8], offset: i32) -> i32 {
    let mut acc = 0i32;
    for (&a, &b) in x.iter().zip(w.iter()) {
        acc = acc.wrapping_add((i32::from(a) + offset) * i32::from(b));
    }
    acc
}

/// Portable pair of dot products sharing `x`: `(dot(x, w0), dot(x, w1))`.
#[inline(always)]
pub fn dot2_offset_portable(x: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> (i32, i32) {
    let (mut a0, mut a1) = (0i32, 0i32);
    for ((&xv, &f0), &f1) in x.iter().zip(w0).zip(w1) {
        let xo = i32::from(xv) + offset;
        a0 = a0.wrapping_add(xo * i32::from(f0));
        a1 = a1.wrapping_add(xo * i32::from(f1));
    }
    (a0, a1)
}

/// Portable 2×2 block: two inputs against two weight rows,
/// `[dot(x0, w0), dot(x0, w1), dot(x1, w0), dot(x1, w1)]`.
#[inline(always)]
pub fn dot2x2_offset_portable(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> [i32; 4] {
    let (a, b) = dot2_offset_portable(x0, w0, w1, offset);
    let (c, d) = dot2_offset_portable(x1, w0, w1, offset);
    [a, b, c, d]
}

/// 2×2 block of dot products with the fastest kernel for the target (each input and
/// weight word is widened once for two products).
#[inline(always)]
pub fn dot2x2_offset(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> [i32; 4] {
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        dsp::dot2x2_offset(x0, x1, w0, w1, offset)
    }
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    {
        dot2x2_offset_portable(x0, x1, w0, w1, offset)
    }
}

/// Two dot products sharing `x`, with the fastest kernel for the target.
#[inline(always)]
pub fn dot2_offset(x: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> (i32, i32) {
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        dsp::dot2_offset(x, w0, w1, offset)
    }
    #[cfg(target_arch = "x86_64")]
    {
        host::dot2_offset(x, w0, w1, offset)
    }
    #[cfg(not(any(
        all(target_arch = "arm", target_feature = "dsp"),
        target_arch = "x86_64"
    )))]
    {
        dot2_offset_portable(x, w0, w1, offset)
    }
}

/// Portable four-lane multiply-accumulate: `acc[k] += (x[k] + offset) * w[k]`.
#[inline(always)]
pub fn mac4_offset_portable(acc: &mut [i32; 4], x: &[i8; 4], w: &[i8; 4], offset: i32) {
    for k in 0..4 {
        acc[k] = acc[k].wrapping_add((i32::from(x[k]) + offset) * i32::from(w[k]));
    }
}

/// Four-lane multiply-accumulate with the fastest kernel for the target
/// (`SMLABB`/`SMLATT` on Cortex-M4): the depthwise inner step.
#[inline(always)]
pub fn mac4_offset(acc: &mut [i32; 4], x: &[i8; 4], w: &[i8; 4], offset: i32) {
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        dsp::mac4_offset(acc, x, w, offset)
    }
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    {
        mac4_offset_portable(acc, x, w, offset)
    }
}

/// `sum((x[i] + offset) * w[i])` with the fastest kernel for the target.
#[inline(always)]
pub fn dot_offset(x: &[i8], w: &[i8], offset: i32) -> i32 {
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        dsp::dot_offset(x, w, offset)
    }
    #[cfg(target_arch = "x86_64")]
    {
        host::dot_offset(x, w, offset)
    }
    #[cfg(not(any(
        all(target_arch = "arm", target_feature = "dsp"),
        target_arch = "x86_64"
    )))]
    {
        dot_offset_portable(x, w, offset)
    }
}

/// Host kernels (x86-64): `sum(x[i] * w[i]) + offset * sum(w[i])` with SSE2 (part of
/// the x86-64 baseline) `PMADDWD`, 16 lanes per step. Wrapping `i32` arithmetic
/// distributes, so the bits equal the portable kernels' (tested below).
#[cfg(target_arch = "x86_64")]
pub mod host {
    use core::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_madd_epi16, _mm_set_epi16,
        _mm_set1_epi16, _mm_setzero_si128, _mm_shuffle_epi32, _mm_srai_epi16, _mm_storeu_si128,
        _mm_unpackhi_epi8, _mm_unpacklo_epi8,
    };

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
        let (mut xw, mut ws) = (xw, ws);
        for (&a, &b) in xc.remainder().iter().zip(wc.remainder()) {
            xw = xw.wrapping_add(i32::from(a) * i32::from(b));
            ws = ws.wrapping_add(i32::from(b));
        }
        xw.wrapping_add(offset.wrapping_mul(ws))
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
        use super::super::{dot_offset_portable, dot2_offset_portable, quad_dot_portable};

        #[test]
        fn host_kernels_equal_the_portable_ones() {
            let mut state = 0x2545_F491u32;
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 24) as i8
            };
            let mut v = [0i8; 3 * 700];
            for round in 0..30 {
                for x in v.iter_mut() {
                    *x = next();
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
                        quad_dot_portable(&xs[..8 * chunks], &w[..4 * chunks], acc)
                    );
                }
                for offset in [-127, -1, 0, 1, 57, 128] {
                    for n in [0, 1, 7, 16, 33, 640, 700] {
                        assert_eq!(
                            super::dot_offset(&x[..n], &w0[..n], offset),
                            dot_offset_portable(&x[..n], &w0[..n], offset)
                        );
                        assert_eq!(
                            super::dot2_offset(&x[..n], &w0[..n], &w1[..n], offset),
                            dot2_offset_portable(&x[..n], &w0[..n], &w1[..n], offset)
                        );
                    }
                }
            }
        }
    }
}

/// Four int8 lanes plus `offset` as the two words of int16 pairs the quad kernel
/// reads: `(x0+o, x2+o)` and `(x1+o, x3+o)` (low halfword first). `x + o` always fits
/// an `i16` for int8 data and an int8 zero point.
#[inline(always)]
pub fn widen4(x: &[i8; 4], offset: i32) -> (u32, u32) {
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        dsp::widen4(x, offset)
    }
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    {
        widen4_portable(x, offset)
    }
}

/// Portable [`widen4`].
#[inline(always)]
pub fn widen4_portable(x: &[i8; 4], offset: i32) -> (u32, u32) {
    let h = |v: i8| u32::from((i32::from(v) + offset) as u16);
    (h(x[0]) | h(x[2]) << 16, h(x[1]) | h(x[3]) << 16)
}

/// Portable quad kernel: `xs` holds, per chunk of four reduction values, eight words
/// (pixel 0..4 × the two [`widen4`] words) and `w` the chunk's four int8 weights;
/// returns `acc[p] + sum(x_p[i] * w[i])` for the four pixels (wrapping).
#[inline(always)]
pub fn quad_dot_portable(xs: &[u32], w: &[i8], mut acc: [i32; 4]) -> [i32; 4] {
    let lo = |v: u32| i32::from(v as u16 as i16);
    let hi = |v: u32| i32::from((v >> 16) as u16 as i16);
    for (xc, wc) in xs.chunks_exact(8).zip(w.chunks_exact(4)) {
        let (w0, w1, w2, w3) = (
            i32::from(wc[0]),
            i32::from(wc[1]),
            i32::from(wc[2]),
            i32::from(wc[3]),
        );
        for (a, px) in acc.iter_mut().zip(xc.chunks_exact(2)) {
            let (e, o) = (px[0], px[1]);
            let s = lo(e) * w0 + hi(e) * w2 + lo(o) * w1 + hi(o) * w3;
            *a = a.wrapping_add(s);
        }
    }
    acc
}

/// [`quad_dot_portable`] with the fastest kernel for the target (on Cortex-M4 an
/// assembly loop: one weight word widened once feeds eight `SMLAD`s).
#[inline(always)]
pub fn quad_dot(xs: &[u32], w: &[i8], acc: [i32; 4]) -> [i32; 4] {
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        dsp::quad_dot(xs, w, acc)
    }
    #[cfg(target_arch = "x86_64")]
    {
        host::quad_dot(xs, w, acc)
    }
    #[cfg(not(any(
        all(target_arch = "arm", target_feature = "dsp"),
        target_arch = "x86_64"
    )))]
    {
        quad_dot_portable(xs, w, acc)
    }
}

/// The Cortex-M4/M33 DSP kernels.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
pub mod dsp {
    use core::arch::asm;

    /// Four int8 lanes as one little-endian word (one unaligned `LDR`).
    #[inline(always)]
    fn word(s: &[i8; 4]) -> u32 {
        u32::from_le_bytes([s[0] as u8, s[1] as u8, s[2] as u8, s[3] as u8])
    }

    /// `SMLABB`: `acc + a.lo * b.lo`.
    #[inline(always)]
    fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: pure register arithmetic on a DSP-capable core.
        unsafe {
            asm!("smlabb {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// `SMLATT`: `acc + a.hi * b.hi`.
    #[inline(always)]
    fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: as above.
        unsafe {
            asm!("smlatt {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// DSP [`super::widen4`].
    #[inline(always)]
    pub fn widen4(x: &[i8; 4], offset: i32) -> (u32, u32) {
        let off2 = ((offset as u32) & 0xffff) | ((offset as u32) << 16);
        let xv = word(x);
        (sxtab16(off2, xv), sxtab16_ror8(off2, xv))
    }

    /// DSP [`super::quad_dot`]: per chunk one `LDR` + two `SXTB16` of the weights,
    /// four `LDRD`s of widened inputs and eight `SMLAD`s; two chunks per loop
    /// iteration (32 MACs in 31 instructions).
    #[inline(always)]
    pub fn quad_dot(xs: &[u32], w: &[i8], acc: [i32; 4]) -> [i32; 4] {
        let n = (xs.len() / 8).min(w.len() / 4);
        if n == 0 {
            return acc;
        }
        let [mut a0, mut a1, mut a2, mut a3] = acc;
        let mut xp = xs.as_ptr();
        let mut wp = w.as_ptr();
        macro_rules! chunk {
            () => {
                concat!(
                    "ldr {w}, [{wp}], #4\n",
                    "sxtb16 {w02}, {w}\n",
                    "sxtb16 {w}, {w}, ror #8\n",
                    "ldrd {xa}, {xb}, [{xp}], #8\n",
                    "smlad {a0}, {xa}, {w02}, {a0}\n",
                    "smlad {a0}, {xb}, {w}, {a0}\n",
                    "ldrd {xa}, {xb}, [{xp}], #8\n",
                    "smlad {a1}, {xa}, {w02}, {a1}\n",
                    "smlad {a1}, {xb}, {w}, {a1}\n",
                    "ldrd {xa}, {xb}, [{xp}], #8\n",
                    "smlad {a2}, {xa}, {w02}, {a2}\n",
                    "smlad {a2}, {xb}, {w}, {a2}\n",
                    "ldrd {xa}, {xb}, [{xp}], #8\n",
                    "smlad {a3}, {xa}, {w02}, {a3}\n",
                    "smlad {a3}, {xb}, {w}, {a3}\n",
                )
            };
        }
        if n % 2 == 1 {
            // SAFETY: reads one chunk (4 weight bytes, 8 words) of the `n >= 1`
            // available; `LDRD` needs word alignment, which `xs: &[u32]` guarantees,
            // and ARMv7E-M allows the unaligned weight `LDR`. Only registers change.
            unsafe {
                asm!(
                    chunk!(),
                    wp = inout(reg) wp,
                    xp = inout(reg) xp,
                    w = out(reg) _,
                    w02 = out(reg) _,
                    xa = out(reg) _,
                    xb = out(reg) _,
                    a0 = inout(reg) a0,
                    a1 = inout(reg) a1,
                    a2 = inout(reg) a2,
                    a3 = inout(reg) a3,
                    options(nostack, readonly, preserves_flags),
                );
            }
        }
        if n >= 2 {
            // SAFETY: the loop reads the remaining `n - n % 2 >= 2` chunks, two per
            // iteration, within `w` and `xs` as above. Only registers and flags change.
            unsafe {
                asm!(
                    "2:",
                    chunk!(),
                    chunk!(),
                    "cmp {wp}, {wend}",
                    "bne 2b",
                    wp = inout(reg) wp => _,
                    xp = inout(reg) xp => _,
                    wend = in(reg) w.as_ptr().add(4 * n),
                    w = out(reg) _,
                    w02 = out(reg) _,
                    xa = out(reg) _,
                    xb = out(reg) _,
                    a0 = inout(reg) a0,
                    a1 = inout(reg) a1,
                    a2 = inout(reg) a2,
                    a3 = inout(reg) a3,
                    options(nostack, readonly),
                );
            }
        }
        [a0, a1, a2, a3]
    }

    /// One depthwise tap over four channels (depth multiplier 1): for the words at
    /// `xp` and `wp`, `acc[k] += (x[k] + offset) * w[k]` with `SMLABB`/`SMLATT`;
    /// then both pointers advance by `step` bytes.
    ///
    /// # Safety
    /// `xp` and `wp` must each point to 4 readable bytes.
    #[inline(always)]
    pub unsafe fn tap4(
        acc: &mut [i32; 4],
        xp: &mut *const i8,
        wp: &mut *const i8,
        step: usize,
        off2: u32,
    ) {
        // SAFETY: the caller guarantees both 4-byte reads; ARMv7E-M `LDR` may be
        // unaligned. Only registers change.
        unsafe {
            asm!(
                "ldr {x}, [{xp}]",
                "ldr {w}, [{wp}]",
                "add {xp}, {step}",
                "add {wp}, {step}",
                "sxtab16 {t}, {off2}, {x}",
                "sxtb16 {u}, {w}",
                "smlabb {a0}, {t}, {u}, {a0}",
                "smlatt {a2}, {t}, {u}, {a2}",
                "sxtab16 {x}, {off2}, {x}, ror #8",
                "sxtb16 {w}, {w}, ror #8",
                "smlabb {a1}, {x}, {w}, {a1}",
                "smlatt {a3}, {x}, {w}, {a3}",
                xp = inout(reg) *xp,
                wp = inout(reg) *wp,
                step = in(reg) step,
                off2 = in(reg) off2,
                x = out(reg) _,
                w = out(reg) _,
                t = out(reg) _,
                u = out(reg) _,
                a0 = inout(reg) acc[0],
                a1 = inout(reg) acc[1],
                a2 = inout(reg) acc[2],
                a3 = inout(reg) acc[3],
                options(nostack, readonly, preserves_flags),
            );
        }
    }

    /// One depthwise tap of four output channels that share one input channel
    /// (depth multiplier a multiple of 4): `acc[k] += (*xp + offset) * w[k]` for the
    /// four weights at `wp`; then `xp += x_step`, `wp += w_step`.
    ///
    /// # Safety
    /// `xp` must point to 1 readable byte and `wp` to 4.
    #[inline(always)]
    pub unsafe fn tap4_shared(
        acc: &mut [i32; 4],
        xp: &mut *const i8,
        wp: &mut *const i8,
        x_step: usize,
        w_step: usize,
        offset: i32,
    ) {
        // SAFETY: the caller guarantees both reads; ARMv7E-M `LDR` may be unaligned.
        // Only registers change.
        unsafe {
            asm!(
                "ldrsb {x}, [{xp}]",
                "ldr {w}, [{wp}]",
                "add {xp}, {xs}",
                "add {wp}, {ws}",
                "add {x}, {off}",
                "sxtb16 {t}, {w}",
                "sxtb16 {w}, {w}, ror #8",
                "smlabb {a0}, {x}, {t}, {a0}",
                "smlabt {a2}, {x}, {t}, {a2}",
                "smlabb {a1}, {x}, {w}, {a1}",
                "smlabt {a3}, {x}, {w}, {a3}",
                xp = inout(reg) *xp,
                wp = inout(reg) *wp,
                xs = in(reg) x_step,
                ws = in(reg) w_step,
                off = in(reg) offset,
                x = out(reg) _,
                w = out(reg) _,
                t = out(reg) _,
                a0 = inout(reg) acc[0],
                a1 = inout(reg) acc[1],
                a2 = inout(reg) acc[2],
                a3 = inout(reg) acc[3],
                options(nostack, readonly, preserves_flags),
            );
        }
    }

    /// DSP four-lane multiply-accumulate (see [`super::mac4_offset`]).
    #[inline(always)]
    pub fn mac4_offset(acc: &mut [i32; 4], x: &[i8; 4], w: &[i8; 4], offset: i32) {
        let off2 = ((offset as u32) & 0xffff) | ((offset as u32) << 16);
        let (xv, wv) = (word(x), word(w));
        let (x02, x13) = (sxtab16(off2, xv), sxtab16_ror8(off2, xv));
        let (w02, w13) = (sxtb16(wv), sxtb16_ror8(wv));
        acc[0] = smlabb(x02, w02, acc[0]);
        acc[2] = smlatt(x02, w02, acc[2]);
        acc[1] = smlabb(x13, w13, acc[1]);
        acc[3] = smlatt(x13, w13, acc[3]);
    }

    /// `SXTAB16(a, ROR(b, rot))`: adds the sign-extended bytes 0 and 2 of the rotated
    /// `b` to the halfwords of `a`.
    #[inline(always)]
    fn sxtab16(a: u32, b: u32) -> u32 {
        let r: u32;
        // SAFETY: pure register arithmetic on a DSP-capable core.
        unsafe {
            asm!("sxtab16 {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack))
        };
        r
    }

    #[inline(always)]
    fn sxtab16_ror8(a: u32, b: u32) -> u32 {
        let r: u32;
        // SAFETY: as above.
        unsafe {
            asm!("sxtab16 {r}, {a}, {b}, ror #8", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack))
        };
        r
    }

    #[inline(always)]
    fn sxtb16(b: u32) -> u32 {
        let r: u32;
        // SAFETY: as above.
        unsafe {
            asm!("sxtb16 {r}, {b}", r = lateout(reg) r, b = in(reg) b, options(pure, nomem, nostack))
        };
        r
    }

    #[inline(always)]
    fn sxtb16_ror8(b: u32) -> u32 {
        let r: u32;
        // SAFETY: as above.
        unsafe {
            asm!("sxtb16 {r}, {b}, ror #8", r = lateout(reg) r, b = in(reg) b, options(pure, nomem, nostack))
        };
        r
    }

    /// `SMLAD`: `acc + a.lo * b.lo + a.hi * b.hi` (wrapping).
    #[inline(always)]
    fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: as above (SMLAD only sets the sticky Q flag on overflow).
        unsafe {
            asm!("smlad {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// DSP `sum((x[i] + offset) * w[i])`.
    #[inline(always)]
    pub fn dot_offset(x: &[i8], w: &[i8], offset: i32) -> i32 {
        let n = x.len().min(w.len());
        let (x, w) = (&x[..n], &w[..n]);
        let off2 = ((offset as u32) & 0xffff) | ((offset as u32) << 16);
        let mut acc = 0i32;
        let ((xc, xr), (wc, wr)) = (x.as_chunks::<4>(), w.as_chunks::<4>());
        for (xb, wb) in xc.iter().zip(wc) {
            let (xv, wv) = (word(xb), word(wb));
            acc = smlad(sxtab16(off2, xv), sxtb16(wv), acc);
            acc = smlad(sxtab16_ror8(off2, xv), sxtb16_ror8(wv), acc);
        }
        for (&a, &b) in xr.iter().zip(wr) {
            acc = acc.wrapping_add((i32::from(a) + offset) * i32::from(b));
        }
        acc
    }

    /// DSP pair of dot products sharing `x`: an assembly loop in which each input
    /// word is widened once (with the offset) for both weight rows (8 MACs in 15
    /// instructions).
    #[inline(always)]
    pub fn dot2_offset(x: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> (i32, i32) {
        let n = x.len().min(w0.len()).min(w1.len());
        let (x, w0, w1) = (&x[..n], &w0[..n], &w1[..n]);
        let off2 = ((offset as u32) & 0xffff) | ((offset as u32) << 16);
        let (mut a0, mut a1) = (0i32, 0i32);
        let chunks = n / 4;
        if chunks > 0 {
            // SAFETY: the loop reads `4 * chunks <= n` bytes from each of `x`, `w0`
            // and `w1` (`chunks >= 1`); ARMv7E-M `LDR` may be unaligned. Only
            // registers and flags change.
            unsafe {
                asm!(
                    "2:",
                    "ldr {x}, [{xp}], #4",
                    "ldr {w}, [{p0}], #4",
                    "sxtab16 {x02}, {off2}, {x}",
                    "sxtab16 {x}, {off2}, {x}, ror #8",
                    "sxtb16 {t}, {w}",
                    "sxtb16 {w}, {w}, ror #8",
                    "smlad {a0}, {x02}, {t}, {a0}",
                    "smlad {a0}, {x}, {w}, {a0}",
                    "ldr {w}, [{p1}], #4",
                    "sxtb16 {t}, {w}",
                    "sxtb16 {w}, {w}, ror #8",
                    "smlad {a1}, {x02}, {t}, {a1}",
                    "smlad {a1}, {x}, {w}, {a1}",
                    "cmp {xp}, {end}",
                    "bne 2b",
                    xp = inout(reg) x.as_ptr() => _,
                    p0 = inout(reg) w0.as_ptr() => _,
                    p1 = inout(reg) w1.as_ptr() => _,
                    end = in(reg) x.as_ptr().add(4 * chunks),
                    off2 = in(reg) off2,
                    x = out(reg) _,
                    x02 = out(reg) _,
                    w = out(reg) _,
                    t = out(reg) _,
                    a0 = inout(reg) a0,
                    a1 = inout(reg) a1,
                    options(nostack, readonly),
                );
            }
        }
        let tail = 4 * chunks;
        for ((&xv, &f0), &f1) in x[tail..].iter().zip(&w0[tail..]).zip(&w1[tail..]) {
            let xo = i32::from(xv) + offset;
            a0 = a0.wrapping_add(xo * i32::from(f0));
            a1 = a1.wrapping_add(xo * i32::from(f1));
        }
        (a0, a1)
    }

    /// DSP 2×2 block (see [`super::dot2x2_offset`]).
    #[inline(always)]
    pub fn dot2x2_offset(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> [i32; 4] {
        let n = x0.len().min(x1.len()).min(w0.len()).min(w1.len());
        let (x0, x1, w0, w1) = (&x0[..n], &x1[..n], &w0[..n], &w1[..n]);
        let off2 = ((offset as u32) & 0xffff) | ((offset as u32) << 16);
        let mut acc = [0i32; 4];
        let ((c0, r0), (c1, r1)) = (x0.as_chunks::<4>(), x1.as_chunks::<4>());
        let ((d0, s0), (d1, s1)) = (w0.as_chunks::<4>(), w1.as_chunks::<4>());
        for (((xa, xb), wa), wb) in c0.iter().zip(c1).zip(d0).zip(d1) {
            let (xa, xb) = (word(xa), word(xb));
            let (xa02, xa13) = (sxtab16(off2, xa), sxtab16_ror8(off2, xa));
            let (xb02, xb13) = (sxtab16(off2, xb), sxtab16_ror8(off2, xb));
            let (wa, wb) = (word(wa), word(wb));
            let (wa02, wa13) = (sxtb16(wa), sxtb16_ror8(wa));
            let (wb02, wb13) = (sxtb16(wb), sxtb16_ror8(wb));
            acc[0] = smlad(xa13, wa13, smlad(xa02, wa02, acc[0]));
            acc[1] = smlad(xa13, wb13, smlad(xa02, wb02, acc[1]));
            acc[2] = smlad(xb13, wa13, smlad(xb02, wa02, acc[2]));
            acc[3] = smlad(xb13, wb13, smlad(xb02, wb02, acc[3]));
        }
        for ((((&xa, &xb), &wa), &wb), _) in r0.iter().zip(r1).zip(s0).zip(s1).zip(0..) {
            let (xa, xb) = (i32::from(xa) + offset, i32::from(xb) + offset);
            acc[0] = acc[0].wrapping_add(xa * i32::from(wa));
            acc[1] = acc[1].wrapping_add(xa * i32::from(wb));
            acc[2] = acc[2].wrapping_add(xb * i32::from(wa));
            acc[3] = acc[3].wrapping_add(xb * i32::from(wb));
        }
        acc
    }
}
