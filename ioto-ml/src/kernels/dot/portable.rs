//! The portable kernels: plain Rust, every target. The Cortex-M4 DSP and x86-64
//! kernels produce the same bits (tested on target and on the host).

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

/// [`dot2_offset`] continued from the accumulators `(a0, a1)`.
#[inline(always)]
pub(crate) fn dot2_acc(
    (mut a0, mut a1): (i32, i32),
    x: &[i8],
    w0: &[i8],
    w1: &[i8],
    offset: i32,
) -> (i32, i32) {
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
pub fn dot2x2_offset(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> [i32; 4] {
    let (a, b) = dot2_offset(x0, w0, w1, offset);
    let (c, d) = dot2_offset(x1, w0, w1, offset);
    [a, b, c, d]
}

/// Portable four-lane multiply-accumulate: `acc[k] += (x[k] + offset) * w[k]`.
#[inline(always)]
pub fn mac4_offset(acc: &mut [i32; 4], x: &[i8; 4], w: &[i8; 4], offset: i32) {
    for k in 0..4 {
        acc[k] = acc[k].wrapping_add((i32::from(x[k]) + offset) * i32::from(w[k]));
    }
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
/// returns `acc[p] + sum(x_p[i] * w[i])` for the four pixels (wrapping).
#[inline(always)]
pub fn quad_dot(xs: &[u32], w: &[i8], mut acc: [i32; 4]) -> [i32; 4] {
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
