//! aarch64 kernels (Cortex-A gateways, Apple silicon): [`dot_offset`] as
//! `sum(x[i] * w[i]) + offset * sum(w[i])` with NEON `SMULL`/`SADALP` (16 lanes per
//! step; int8 products fit `i16`, pairs accumulate into `i32`), and with the
//! dot-product extension (`+dotprod`, compile time) `SDOT`, four products per lane.
//! Wrapping `i32` arithmetic distributes, so the bits equal the portable kernels'.
//! NEON is part of every aarch64 target with floating point; the other kernels are
//! the portable ones.

use core::arch::aarch64::{int32x4_t, vaddvq_s32, vdupq_n_s32, vld1q_s8, vpadalq_s16, vpaddlq_s8};
#[cfg(not(target_feature = "dotprod"))]
use core::arch::aarch64::{vget_low_s8, vmull_high_s8, vmull_s8};

use super::portable;
pub use super::portable::{dot2x2_offset, mac4_offset, quad_dot, widen4};

/// `(sum(x * w), sum(w))` lanes of one 16-byte step added into `(xw, ws)`.
#[inline(always)]
fn step(xw: int32x4_t, ws: int32x4_t, a: &[i8], b: &[i8]) -> (int32x4_t, int32x4_t) {
    // SAFETY: NEON is enabled for the target (this module's cfg); each load reads
    // one whole 16-byte chunk of a slice.
    unsafe {
        let (a, b) = (vld1q_s8(a.as_ptr()), vld1q_s8(b.as_ptr()));
        // `SDOT` (its intrinsic, `vdotq_s32`, is not stable Rust yet).
        #[cfg(target_feature = "dotprod")]
        let xw = {
            let mut acc = xw;
            core::arch::asm!(
                "sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
                acc = inout(vreg) acc,
                a = in(vreg) a,
                b = in(vreg) b,
                options(pure, nomem, nostack),
            );
            acc
        };
        #[cfg(not(target_feature = "dotprod"))]
        let xw = vpadalq_s16(
            vpadalq_s16(xw, vmull_s8(vget_low_s8(a), vget_low_s8(b))),
            vmull_high_s8(a, b),
        );
        (xw, vpadalq_s16(ws, vpaddlq_s8(b)))
    }
}

/// [`super::dot_offset`] for aarch64.
#[inline(always)]
pub fn dot_offset(x: &[i8], w: &[i8], offset: i32) -> i32 {
    let n = x.len().min(w.len());
    let (xs, wr) = (x[..n].as_chunks::<16>(), w[..n].as_chunks::<16>());
    // SAFETY: NEON is enabled for the target (this module's cfg).
    let zero = unsafe { vdupq_n_s32(0) };
    let (mut xw, mut ws) = (zero, zero);
    for (a, b) in xs.0.iter().zip(wr.0) {
        (xw, ws) = step(xw, ws, a, b);
    }
    // SAFETY: as above.
    let (xw, ws) = unsafe { (vaddvq_s32(xw), vaddvq_s32(ws)) };
    portable::dot_acc(xw.wrapping_add(offset.wrapping_mul(ws)), xs.1, wr.1, offset)
}

/// [`super::dot2_offset`] for aarch64.
#[inline(always)]
pub fn dot2_offset(x: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> (i32, i32) {
    (dot_offset(x, w0, offset), dot_offset(x, w1, offset))
}

#[cfg(test)]
mod tests {
    use super::portable;
    use crate::test_rng::XorShift;

    /// Every length up to 40 and a few long ones, random data and the extremes
    /// (rounds 0 and 1: all -128, all 127), the offsets of int8 zero points.
    #[test]
    fn neon_dot_equals_the_portable_one() {
        let mut rng = XorShift::new(0x9e37_79b9);
        let lengths = (0..40).chain([63, 64, 65, 640, 700]);
        for (round, n) in (0..30).flat_map(|r| lengths.clone().map(move |n| (r, n))) {
            let mut next = || [-128, 127, rng.next_i8()][round.min(2)];
            let data: [i8; 1400] = core::array::from_fn(|_| next());
            let (x, w) = (&data[..n], &data[700..700 + n]);
            for offset in [-127, -1, 0, 57, 128] {
                let want = portable::dot_offset(x, w, offset);
                assert_eq!(
                    super::dot_offset(x, w, offset),
                    want,
                    "n {n} offset {offset}"
                );
            }
        }
    }
}
