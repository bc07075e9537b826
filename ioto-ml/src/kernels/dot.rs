//! Inner dot products of the int8 kernels, portable and Cortex-M4 DSP.
//!
//! [`dot_offset`] is `sum((x[i] + offset) * w[i])` with wrapping `i32` arithmetic.
//! On `thumbv7em` with the `dsp` feature the optimized version widens four int8
//! lanes at a time with `SXTAB16`/`SXTB16` and accumulates pairs with `SMLAD`; it
//! produces the same bits as [`dot_offset_portable`] (tested on target and on host).

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
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
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
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    {
        dot_offset_portable(x, w, offset)
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

    /// DSP pair of dot products sharing `x` (each `x` word is widened once).
    #[inline(always)]
    pub fn dot2_offset(x: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> (i32, i32) {
        let n = x.len().min(w0.len()).min(w1.len());
        let (x, w0, w1) = (&x[..n], &w0[..n], &w1[..n]);
        let off2 = ((offset as u32) & 0xffff) | ((offset as u32) << 16);
        let (mut a0, mut a1) = (0i32, 0i32);
        let ((xc, xr), (c0, r0), (c1, r1)) =
            (x.as_chunks::<4>(), w0.as_chunks::<4>(), w1.as_chunks::<4>());
        for ((xb, b0), b1) in xc.iter().zip(c0).zip(c1) {
            let xv = word(xb);
            let (x02, x13) = (sxtab16(off2, xv), sxtab16_ror8(off2, xv));
            let (v0, v1) = (word(b0), word(b1));
            a0 = smlad(x02, sxtb16(v0), a0);
            a0 = smlad(x13, sxtb16_ror8(v0), a0);
            a1 = smlad(x02, sxtb16(v1), a1);
            a1 = smlad(x13, sxtb16_ror8(v1), a1);
        }
        for ((&xv, &f0), &f1) in xr.iter().zip(r0).zip(r1) {
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
