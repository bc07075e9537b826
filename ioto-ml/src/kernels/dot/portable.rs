//! The portable kernels: plain Rust, every target, written so that rv32imc and
//! thumbv6m compile them to tight loops (accumulators and weights in registers,
//! fixed-size chunks without bounds checks). The Cortex-M4 DSP, Cortex-M0, RISC-V
//! and x86-64 kernels produce the same bits (tested on target and on the host).

/// Portable `sum((x[i] + offset) * w[i])`; `x` and `w` have the same length.
#[inline(always)]
pub fn dot_offset(x: &[i8], w: &[i8], offset: i32) -> i32 {
    dot_acc(0, x, w, offset)
}

/// `acc + sum((x[i] + offset) * w[i])`, wrapping: [`dot_offset`] continued from
/// `acc` (the scalar tail of the vector kernels).
#[inline(always)]
pub(crate) fn dot_acc(mut acc: i32, x: &[i8], w: &[i8], offset: i32) -> i32 {
    for (&a, &b) in x.iter().zip(w.iter()) {
        acc = acc.wrapping_add((i32::from(a) + offset) * i32::from(b));
    }
    acc
}

/// Portable pair of dot products sharing `x`: `(dot(x, w0), dot(x, w1))`.
#[inline(always)]
pub fn dot2_offset(x: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> (i32, i32) {
    dot2_acc((0, 0), x, w0, w1, offset)
}

/// [`dot2_offset`] continued from the accumulators `(a0, a1)`: four values per
/// step with the accumulators in registers (no bounds checks in the loop), then
/// the tail one by one.
#[inline(always)]
pub(crate) fn dot2_acc(
    (mut a0, mut a1): (i32, i32),
    x: &[i8],
    w0: &[i8],
    w1: &[i8],
    offset: i32,
) -> (i32, i32) {
    let n = x.len().min(w0.len()).min(w1.len());
    let (x, w0, w1) = (&x[..n], &w0[..n], &w1[..n]);
    let ((xc, xr), (c0, r0), (c1, r1)) =
        (x.as_chunks::<4>(), w0.as_chunks::<4>(), w1.as_chunks::<4>());
    let w = |f: &[i8; 4], k: usize| i32::from(f[k]);
    for ((xv, f0), f1) in xc.iter().zip(c0).zip(c1) {
        let x = |k: usize| i32::from(xv[k]) + offset;
        let (x0, x1, x2, x3) = (x(0), x(1), x(2), x(3));
        let (f00, f01, f02, f03) = (w(f0, 0), w(f0, 1), w(f0, 2), w(f0, 3));
        let (f10, f11, f12, f13) = (w(f1, 0), w(f1, 1), w(f1, 2), w(f1, 3));
        a0 = a0.wrapping_add(x0 * f00 + x1 * f01 + x2 * f02 + x3 * f03);
        a1 = a1.wrapping_add(x0 * f10 + x1 * f11 + x2 * f12 + x3 * f13);
    }
    for ((&xv, &f0), &f1) in xr.iter().zip(r0).zip(r1) {
        let xo = i32::from(xv) + offset;
        a0 = a0.wrapping_add(xo * i32::from(f0));
        a1 = a1.wrapping_add(xo * i32::from(f1));
    }
    (a0, a1)
}

/// Portable 2×2 block: two inputs against two weight rows,
/// `[dot(x0, w0), dot(x0, w1), dot(x1, w0), dot(x1, w1)]`.
#[inline(always)]
pub fn dot2x2_offset(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> [i32; 4] {
    let (a, b) = dot2_offset(x0, w0, w1, offset);
    let (c, d) = dot2_offset(x1, w0, w1, offset);
    [a, b, c, d]
}

/// Portable four-lane multiply-accumulate: `acc[k] += (x[k] + offset) * w[k]`.
#[inline(always)]
pub fn mac4_offset(acc: &mut [i32; 4], x: &[i8; 4], w: &[i8; 4], offset: i32) {
    let term = |k: usize| (i32::from(x[k]) + offset) * i32::from(w[k]);
    acc[0] = acc[0].wrapping_add(term(0));
    acc[1] = acc[1].wrapping_add(term(1));
    acc[2] = acc[2].wrapping_add(term(2));
    acc[3] = acc[3].wrapping_add(term(3));
}

/// Portable `widen4`: four int8 lanes plus `offset` as the two words of int16 pairs
/// the quad kernel reads, `(x0+o, x2+o)` and `(x1+o, x3+o)` (low halfword first).
#[inline(always)]
pub fn widen4(x: &[i8; 4], offset: i32) -> (u32, u32) {
    let h = |v: i8| u32::from((i32::from(v) + offset) as u16);
    (h(x[0]) | h(x[2]) << 16, h(x[1]) | h(x[3]) << 16)
}

/// Portable quad kernel: `xs` holds, per chunk of four reduction values, eight words
/// (pixel 0..4 × the two `widen4` words) and `w` the chunk's four int8 weights;
/// returns `acc[p] + sum(x_p[i] * w[i])` for the four pixels (wrapping). The four
/// accumulators and the chunk's four weights stay in registers.
#[inline(always)]
pub fn quad_dot(xs: &[u32], w: &[i8], acc: [i32; 4]) -> [i32; 4] {
    let lo = |v: u32| i32::from(v as u16 as i16);
    let hi = |v: u32| i32::from((v >> 16) as u16 as i16);
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    for (x, wc) in xs.as_chunks::<8>().0.iter().zip(w.as_chunks::<4>().0) {
        let (w0, w1, w2, w3) = (
            i32::from(wc[0]),
            i32::from(wc[1]),
            i32::from(wc[2]),
            i32::from(wc[3]),
        );
        let px = |e: u32, o: u32| lo(e) * w0 + hi(e) * w2 + lo(o) * w1 + hi(o) * w3;
        a0 = a0.wrapping_add(px(x[0], x[1]));
        a1 = a1.wrapping_add(px(x[2], x[3]));
        a2 = a2.wrapping_add(px(x[4], x[5]));
        a3 = a3.wrapping_add(px(x[6], x[7]));
    }
    [a0, a1, a2, a3]
}

/// The offset argument of [`tap4`] (the portable kernels take it as is; the DSP
/// ones in both halfwords of a word).
#[cfg_attr(all(target_arch = "arm", target_feature = "dsp"), allow(dead_code))]
#[inline(always)]
pub(crate) fn offset_pair(offset: i32) -> u32 {
    offset as u32
}

/// Portable depthwise tap over four channels (depth multiplier 1): for the four
/// bytes at `xp` and `wp`, `acc[k] += (x[k] + offset) * w[k]`, then both pointers
/// advance by `step` bytes. `off2` is `offset_pair(offset)`.
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
    // SAFETY: the caller guarantees the four bytes at both pointers (read one by
    // one: a sign-extending byte load each on RISC-V and Thumb).
    let (x, w) = unsafe { (bytes4(*xp), bytes4(*wp)) };
    mac4_offset(acc, &x, &w, off2 as i32);
    *xp = xp.wrapping_add(step);
    *wp = wp.wrapping_add(step);
}

/// Portable depthwise tap of four output channels sharing one input channel (depth
/// multiplier a multiple of 4): `acc[k] += (*xp + offset) * w[k]` for the four
/// weights at `wp`; then `xp += x_step`, `wp += w_step`.
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
    // SAFETY: the caller guarantees the byte at `xp` and the four at `wp`.
    let (x, w) = unsafe { (xp.read(), bytes4(*wp)) };
    mac4_offset(acc, &[x; 4], &w, offset);
    *xp = xp.wrapping_add(x_step);
    *wp = wp.wrapping_add(w_step);
}

/// The four bytes at `p`, each read on its own.
///
/// # Safety
/// `p` must point to 4 readable bytes.
#[inline(always)]
unsafe fn bytes4(p: *const i8) -> [i8; 4] {
    // SAFETY: the caller guarantees the four bytes.
    unsafe { [p.read(), p.add(1).read(), p.add(2).read(), p.add(3).read()] }
}
