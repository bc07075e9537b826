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

    #[inline(always)]
    fn load4(s: &[i8], i: usize) -> u32 {
        u32::from_le_bytes([s[i] as u8, s[i + 1] as u8, s[i + 2] as u8, s[i + 3] as u8])
    }

    /// `SXTAB16(a, ROR(b, rot))`: adds the sign-extended bytes 0 and 2 of the rotated
    /// `b` to the halfwords of `a`.
    #[inline(always)]
    fn sxtab16(a: u32, b: u32) -> u32 {
        let r: u32;
        // SAFETY: pure register arithmetic on a DSP-capable core.
        unsafe { asm!("sxtab16 {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack)) };
        r
    }

    #[inline(always)]
    fn sxtab16_ror8(a: u32, b: u32) -> u32 {
        let r: u32;
        // SAFETY: as above.
        unsafe { asm!("sxtab16 {r}, {a}, {b}, ror #8", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack)) };
        r
    }

    #[inline(always)]
    fn sxtb16(b: u32) -> u32 {
        let r: u32;
        // SAFETY: as above.
        unsafe { asm!("sxtb16 {r}, {b}", r = lateout(reg) r, b = in(reg) b, options(pure, nomem, nostack)) };
        r
    }

    #[inline(always)]
    fn sxtb16_ror8(b: u32) -> u32 {
        let r: u32;
        // SAFETY: as above.
        unsafe { asm!("sxtb16 {r}, {b}, ror #8", r = lateout(reg) r, b = in(reg) b, options(pure, nomem, nostack)) };
        r
    }

    /// `SMLAD`: `acc + a.lo * b.lo + a.hi * b.hi` (wrapping).
    #[inline(always)]
    fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: as above (SMLAD only sets the sticky Q flag on overflow).
        unsafe { asm!("smlad {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack)) };
        r
    }

    /// DSP `sum((x[i] + offset) * w[i])`.
    #[inline(always)]
    pub fn dot_offset(x: &[i8], w: &[i8], offset: i32) -> i32 {
        let n = x.len().min(w.len());
        let off2 = ((offset as u32) & 0xffff) | ((offset as u32) << 16);
        let mut acc = 0i32;
        let mut i = 0;
        while i + 4 <= n {
            let xv = load4(x, i);
            let wv = load4(w, i);
            let x02 = sxtab16(off2, xv);
            let x13 = sxtab16_ror8(off2, xv);
            let w02 = sxtb16(wv);
            let w13 = sxtb16_ror8(wv);
            acc = smlad(x02, w02, acc);
            acc = smlad(x13, w13, acc);
            i += 4;
        }
        while i < n {
            acc = acc.wrapping_add((i32::from(x[i]) + offset) * i32::from(w[i]));
            i += 1;
        }
        acc
    }
}
