//! RISC-V (rv32imc) kernels: plain Rust shaped for the ISA. Every other kernel is
//! the portable one. Compiled on the host too, for the unit tests against the
//! portable kernels.

#[cfg(target_arch = "riscv32")]
pub use super::portable::{dot_offset, dot2_offset, dot2x2_offset, mac4_offset, widen4};

/// `(a * b) >> 32` of the signed 64-bit product: one `MULH`.
#[inline(always)]
fn mulh(a: i32, b: i32) -> i32 {
    ((i64::from(a) * i64::from(b)) >> 32) as i32
}

/// The quad kernel (contract of [`super::portable::quad_dot`]) with one shift
/// fewer per word: the low halfword `lo` of a word `e` times a weight `w` is
/// `mulh(e << 16, w << 16)` (`lo * w * 2^32`, exact), so only the high halfword
/// needs its own shift (`srai`); per chunk of 16 MACs 8 `slli` + 8 `srai` + 8
/// `mul` + 8 `mulh` instead of 24 shifts + 16 `mul`.
#[inline(always)]
pub fn quad_dot(xs: &[u32], w: &[i8], acc: [i32; 4]) -> [i32; 4] {
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    for (x, wc) in xs.as_chunks::<8>().0.iter().zip(w.as_chunks::<4>().0) {
        let (w0, w1, w2, w3) = (
            i32::from(wc[0]) << 16,
            i32::from(wc[1]) << 16,
            i32::from(wc[2]),
            i32::from(wc[3]),
        );
        let px = |e: u32, o: u32| {
            let (e, o) = (e as i32, o as i32);
            mulh(e << 16, w0) + (e >> 16) * w2 + mulh(o << 16, w1) + (o >> 16) * w3
        };
        a0 = a0.wrapping_add(px(x[0], x[1]));
        a1 = a1.wrapping_add(px(x[2], x[3]));
        a2 = a2.wrapping_add(px(x[4], x[5]));
        a3 = a3.wrapping_add(px(x[6], x[7]));
    }
    [a0, a1, a2, a3]
}
