//! Inner dot products of the int8 kernels: portable, Cortex-M4 DSP and x86-64 SSE2.
//!
//! [`dot_offset`] is `sum((x[i] + offset) * w[i])` with wrapping `i32` arithmetic.
//! Each function here runs the fastest implementation for the target: the portable
//! ones (also exported here with a `_portable` suffix, in `portable.rs`) everywhere,
//! `dsp` on `thumbv7em` with the `dsp` feature (`SXTAB16`/`SXTB16` widen four int8
//! lanes at a time, `SMLAD` accumulates pairs), `host` on x86-64 hosts (gateways,
//! the CLI; `PMADDWD` does 8 pairs at a time), `m0` on Arm without DSP (Cortex-M0+:
//! `asm!` loops with the accumulators in `r8`–`r11`), `rv32` on RISC-V (one `MULH`
//! instead of two shifts per halfword), `neon` on aarch64 (`SMULL` pairs, or `SDOT`
//! with `+dotprod`). All produce the same bits (tested on target
//! and on host; [`check::run`] compares them all on the device itself).

pub mod check;
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
pub mod dsp;
#[cfg(target_arch = "x86_64")]
pub mod host;
#[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
mod m0;
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
pub mod neon;
mod portable;
#[cfg(any(not(all(target_arch = "arm", not(target_feature = "dsp"))), test))]
mod rows;
#[cfg(any(target_arch = "riscv32", test))]
mod rv32;
#[cfg(test)]
mod tests;

pub use portable::{
    dot_offset as dot_offset_portable, dot2_offset as dot2_offset_portable,
    dot2x2_offset as dot2x2_offset_portable, mac4_offset as mac4_offset_portable,
    quad_dot as quad_dot_portable, tap4 as tap4_portable, tap4_shared as tap4_shared_portable,
    widen4 as widen4_portable,
};

#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
use dsp as fast;
#[cfg(target_arch = "x86_64")]
use host as fast;
#[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
use m0 as fast;
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
use neon as fast;
#[cfg(not(any(
    target_arch = "arm",
    target_arch = "x86_64",
    target_arch = "riscv32",
    all(target_arch = "aarch64", target_feature = "neon")
)))]
use portable as fast;
#[cfg(target_arch = "riscv32")]
use rv32 as fast;

// The depthwise taps: DSP on Cortex-M4, portable on every other target.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
pub(crate) use dsp::{offset_pair, tap4, tap4_shared};
#[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
pub(crate) use m0::offset_pair;
#[cfg(not(target_arch = "arm"))]
pub(crate) use portable::{offset_pair, tap4, tap4_shared};
// Rows of taps: whole-row loops on Cortex-M0, the taps above one by one elsewhere.
#[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
pub(crate) use m0::{row4, row4_shared};
#[cfg(not(all(target_arch = "arm", not(target_feature = "dsp"))))]
pub(crate) use rows::{row4, row4_shared};

/// `sum((x[i] + offset) * w[i])` with the fastest kernel for the target.
#[inline(always)]
pub fn dot_offset(x: &[i8], w: &[i8], offset: i32) -> i32 {
    fast::dot_offset(x, w, offset)
}

/// Two dot products sharing `x`, `(dot(x, w0), dot(x, w1))`, with the fastest kernel
/// for the target.
#[inline(always)]
pub fn dot2_offset(x: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> (i32, i32) {
    fast::dot2_offset(x, w0, w1, offset)
}

/// 2×2 block of dot products with the fastest kernel for the target (each input and
/// weight word is widened once for two products).
#[inline(always)]
pub fn dot2x2_offset(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> [i32; 4] {
    fast::dot2x2_offset(x0, x1, w0, w1, offset)
}

/// Four-lane multiply-accumulate with the fastest kernel for the target
/// (`SMLABB`/`SMLATT` on Cortex-M4): the depthwise inner step.
#[inline(always)]
pub fn mac4_offset(acc: &mut [i32; 4], x: &[i8; 4], w: &[i8; 4], offset: i32) {
    fast::mac4_offset(acc, x, w, offset)
}

/// Four int8 lanes plus `offset` as the two words of int16 pairs the quad kernel
/// reads: `(x0+o, x2+o)` and `(x1+o, x3+o)` (low halfword first). `x + o` always fits
/// an `i16` for int8 data and an int8 zero point.
#[inline(always)]
pub fn widen4(x: &[i8; 4], offset: i32) -> (u32, u32) {
    fast::widen4(x, offset)
}

/// [`quad_dot_portable`] with the fastest kernel for the target (on Cortex-M4 an
/// assembly loop: one weight word widened once feeds eight `SMLAD`s).
#[inline(always)]
pub fn quad_dot(xs: &[u32], w: &[i8], acc: [i32; 4]) -> [i32; 4] {
    fast::quad_dot(xs, w, acc)
}
