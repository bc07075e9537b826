//! The Cortex-M4/M33 DSP kernels (`target_arch = "arm"`, `target_feature = "dsp"`):
//! `SXTAB16`/`SXTB16` widen two int8 lanes at a time (adding the offset on the way),
//! `SMLAD` and `SMLABB`/`SMLATT`/`SMLABT` multiply-accumulate them, through stable
//! `asm!`. Bit-equal to the portable kernels (checked on qemu-m4f by the `ml` and
//! `ml_kernels` suites).

use core::arch::asm;

use super::portable;

/// Four int8 lanes as one little-endian word (one unaligned `LDR`).
#[inline(always)]
fn word(s: &[i8; 4]) -> u32 {
    u32::from_le_bytes([s[0] as u8, s[1] as u8, s[2] as u8, s[3] as u8])
}

/// `offset` in both halfwords of a word, the first operand of `SXTAB16`.
#[inline(always)]
pub(crate) fn offset_pair(offset: i32) -> u32 {
    ((offset as u32) & 0xffff) | ((offset as u32) << 16)
}

/// Declares a function that is one pure DSP instruction on registers:
/// `name(operands..) -> result` runs `insn {r}, {operand}.. suffix`.
macro_rules! dsp_insn {
    ($(#[$m:meta])* fn $name:ident($($arg:ident: $ty:ty),+) -> $ret:ty = $insn:literal $($suffix:literal)?;) => {
        $(#[$m])*
        #[inline(always)]
        fn $name($($arg: $ty),+) -> $ret {
            let r: $ret;
            // SAFETY: pure register arithmetic on a DSP-capable core (`SMLA*` only
            // set the sticky Q flag on overflow).
            unsafe {
                asm!(
                    concat!($insn, " {r}", $(", {", stringify!($arg), "}",)+ $($suffix)?),
                    r = lateout(reg) r,
                    $($arg = in(reg) $arg,)+
                    options(pure, nomem, nostack),
                )
            };
            r
        }
    };
}

dsp_insn! {
    /// `SMLABB`: `c + a.lo * b.lo`.
    fn smlabb(a: u32, b: u32, c: i32) -> i32 = "smlabb";
}
dsp_insn! {
    /// `SMLATT`: `c + a.hi * b.hi`.
    fn smlatt(a: u32, b: u32, c: i32) -> i32 = "smlatt";
}
dsp_insn! {
    /// `SMLAD`: `c + a.lo * b.lo + a.hi * b.hi` (wrapping).
    fn smlad(a: u32, b: u32, c: i32) -> i32 = "smlad";
}
dsp_insn! {
    /// `SXTAB16`: adds the sign-extended bytes 0 and 2 of `b` to the halfwords of `a`.
    fn sxtab16(a: u32, b: u32) -> u32 = "sxtab16";
}
dsp_insn! {
    /// `SXTAB16` with `b` rotated by 8: bytes 1 and 3.
    fn sxtab16_ror8(a: u32, b: u32) -> u32 = "sxtab16" ", ror #8";
}
dsp_insn! {
    /// `SXTB16`: the sign-extended bytes 0 and 2 of `b` as two halfwords.
    fn sxtb16(b: u32) -> u32 = "sxtb16";
}
dsp_insn! {
    /// `SXTB16` with `b` rotated by 8: bytes 1 and 3.
    fn sxtb16_ror8(b: u32) -> u32 = "sxtb16" ", ror #8";
}

/// DSP [`super::widen4`].
#[inline(always)]
pub fn widen4(x: &[i8; 4], offset: i32) -> (u32, u32) {
    widen_x(x, offset_pair(offset))
}

/// One chunk of [`quad_dot`]: one `LDR` + two `SXTB16` of the weights, four `LDRD`s
/// of widened inputs and eight `SMLAD`s.
macro_rules! quad_chunk {
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

/// An `asm!` block over four accumulators (the places `a0`..`a3`, operands of the
/// same names), after the block's own `operands`.
macro_rules! asm_acc4 {
    (
        [$($code:expr),+],
        [$a0:expr, $a1:expr, $a2:expr, $a3:expr],
        [$($operand:tt)*],
        options($($option:ident),+)
    ) => {
        asm!(
            $($code),+,
            $($operand)*
            a0 = inout(reg) $a0,
            a1 = inout(reg) $a1,
            a2 = inout(reg) $a2,
            a3 = inout(reg) $a3,
            options($($option),+),
        )
    };
}

/// DSP [`super::quad_dot`]: `quad_chunk!`s, two per loop iteration (32 MACs in 31
/// instructions), in one `asm!` block that enters the loop after an odd chunk, so
/// the call costs a few instructions beyond the loop.
#[inline(always)]
pub fn quad_dot(xs: &[u32], w: &[i8], acc: [i32; 4]) -> [i32; 4] {
    let n = (xs.len() / 8).min(w.len() / 4);
    if n == 0 {
        return acc;
    }
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    // SAFETY: reads `n >= 1` chunks (4 weight bytes and 8 words each) within `w`
    // and `xs`: one chunk first when `n` is odd, then two per iteration until `wp`
    // reaches `wend`. `LDRD` needs word alignment, which `xs: &[u32]` guarantees,
    // and ARMv7E-M allows the unaligned weight `LDR`. Only registers and flags
    // change.
    unsafe {
        asm_acc4!(
            [
                // `wend - wp` is `4 * n`: bit 2 set when `n` is odd.
                "sub {w}, {wend}, {wp}",
                "tst {w}, #4",
                "beq 2f",
                quad_chunk!(),
                "cmp {wp}, {wend}",
                "beq 3f",
                "2:",
                quad_chunk!(),
                quad_chunk!(),
                "cmp {wp}, {wend}",
                "bne 2b",
                "3:"
            ],
            [a0, a1, a2, a3],
            [
                wp = inout(reg) w.as_ptr() => _,
                xp = inout(reg) xs.as_ptr() => _,
                wend = in(reg) w.as_ptr().add(4 * n),
                w = out(reg) _,
                w02 = out(reg) _,
                xa = out(reg) _,
                xb = out(reg) _,
            ],
            options(nostack, readonly)
        );
    }
    [a0, a1, a2, a3]
}

/// A depthwise tap: `code` reads through `*xp` and `*wp` (both advanced) into the
/// scratch registers `x`, `w`, `t` (plus `more` operands) and accumulates into
/// `acc[0..4]`.
macro_rules! tap_asm {
    ([$($code:expr),+], $acc:expr, $xp:expr, $wp:expr, [$($more:tt)*]) => {
        asm_acc4!(
            [$($code),+],
            [$acc[0], $acc[1], $acc[2], $acc[3]],
            [
                xp = inout(reg) *$xp,
                wp = inout(reg) *$wp,
                x = out(reg) _,
                w = out(reg) _,
                t = out(reg) _,
                $($more)*
            ],
            options(nostack, readonly, preserves_flags)
        )
    };
}

/// One depthwise tap over four channels (depth multiplier 1): for the words at
/// `xp` and `wp`, `acc[k] += (x[k] + offset) * w[k]` with `SMLABB`/`SMLATT`;
/// then both pointers advance by `step` bytes. `off2` is
/// `offset_pair(offset)`.
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
        tap_asm!(
            [
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
                "smlatt {a3}, {x}, {w}, {a3}"
            ],
            acc,
            xp,
            wp,
            [step = in(reg) step, off2 = in(reg) off2, u = out(reg) _,]
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
        tap_asm!(
            [
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
                "smlabt {a3}, {x}, {w}, {a3}"
            ],
            acc,
            xp,
            wp,
            [xs = in(reg) x_step, ws = in(reg) w_step, off = in(reg) offset,]
        );
    }
}

/// The weights of a 3×3 depthwise window for four channels (depth multiplier 1),
/// widened once for every pixel of a run ([`taps3x3`]): per filter row, the three
/// taps' `(w02, w13)` pairs (`SXTB16` of bytes 0 and 2, then 1 and 3), then the
/// input bytes from the end of that row of taps to the start of the next.
pub struct Window3x3([u32; 21]);

impl Window3x3 {
    /// The window of the nine weight words `w` (row-major taps, channels `c..c+4`
    /// each), for an input whose filter rows are `x_adjust` bytes apart after the
    /// row's three taps.
    #[inline(always)]
    pub fn new(w: &[[i8; 4]; 9], x_adjust: usize) -> Self {
        let mut words = [0u32; 21];
        for (row, taps) in words.chunks_exact_mut(7).zip(w.chunks_exact(3)) {
            for (pair, tap) in row.chunks_exact_mut(2).zip(taps) {
                let (w02, w13) = widen_w(tap);
                pair[0] = w02;
                pair[1] = w13;
            }
            row[6] = x_adjust as u32;
        }
        Window3x3(words)
    }
}

/// One tap of [`taps3x3`]: the input word at `xp` (then `xp += step`), the next
/// widened weight pair at `wq`, four `SMLABB`/`SMLATT`.
macro_rules! window_tap {
    () => {
        concat!(
            "ldr {x}, [{xp}]\n",
            "add {xp}, {step}\n",
            "ldrd {w02}, {w13}, [{wq}], #8\n",
            "sxtab16 {t}, {off2}, {x}\n",
            "sxtab16 {x}, {off2}, {x}, ror #8\n",
            "smlabb {a0}, {t}, {w02}, {a0}\n",
            "smlatt {a2}, {t}, {w02}, {a2}\n",
            "smlabb {a1}, {x}, {w13}, {a1}\n",
            "smlatt {a3}, {x}, {w13}, {a3}\n",
        )
    };
}

/// One filter row of [`taps3x3`]: three taps, then the input pointer moves to the
/// next row.
macro_rules! window_row {
    () => {
        concat!(
            window_tap!(),
            window_tap!(),
            window_tap!(),
            "ldr {t}, [{wq}], #4\n",
            "add {xp}, {t}\n",
        )
    };
}

/// The nine taps of a 3×3 window over four channels (depth multiplier 1):
/// `acc[k] += (x[k] + offset) * w[k]` for every tap, the input words read from
/// `xp` (taps `step` bytes apart, rows as the window says), the weights already
/// widened in `window` (87 instructions for 36 MACs). `off2` is
/// `offset_pair(offset)`.
///
/// # Safety
/// Every tap's 4 input bytes must be readable: `xp + r * (3 * step + x_adjust) +
/// k * step` for `r, k < 3`.
#[inline(always)]
pub unsafe fn taps3x3(
    acc: &mut [i32; 4],
    xp: *const i8,
    window: &Window3x3,
    step: usize,
    off2: u32,
) {
    // SAFETY: the caller guarantees every input read; the 21 words of the window
    // are read in order. ARMv7E-M `LDR` may be unaligned; `LDRD` reads the
    // word-aligned window. Only registers change.
    unsafe {
        asm_acc4!(
            [window_row!(), window_row!(), window_row!()],
            [acc[0], acc[1], acc[2], acc[3]],
            [
                xp = inout(reg) xp => _,
                wq = inout(reg) window.0.as_ptr() => _,
                step = in(reg) step,
                off2 = in(reg) off2,
                x = out(reg) _,
                t = out(reg) _,
                w02 = out(reg) _,
                w13 = out(reg) _,
            ],
            options(nostack, readonly, preserves_flags)
        );
    }
}

/// The single-rounding requantization of `requant::Requant::apply` on Cortex-M4:
/// `floor((acc * mult + 2^30 + (half1 - [acc < 0]) * 2^31) / 2^(32 + shift))`, the
/// constant built from the sign of `acc` in four instructions, then `SMLAL` and one
/// shift of the high word. Equals TFLite's `MultiplyByQuantizedMultiplier` with a
/// right shift of `shift + 1` when `2^30 < mult` and `half1 = 2^shift`, `shift < 31`.
#[inline(always)]
pub fn requant_single(acc: i32, mult: i32, half1: i32, shift: u32) -> i32 {
    let v: i32;
    // SAFETY: register arithmetic only.
    unsafe {
        asm!(
            "sub {c}, {h1}, {acc}, lsr #31",
            "lsl {lo}, {c}, #31",
            "orr {lo}, {lo}, #0x40000000",
            "asr {c}, {c}, #1",
            "smlal {lo}, {c}, {acc}, {mult}",
            "asr {c}, {c}, {s}",
            c = out(reg) v,
            lo = out(reg) _,
            h1 = in(reg) half1,
            acc = in(reg) acc,
            mult = in(reg) mult,
            s = in(reg) shift,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    v
}

/// Four int8 lanes plus the offset as the two pairs `SMLAD`/`SMLABB` read: lanes
/// 0 and 2, then 1 and 3.
#[inline(always)]
fn widen_x(x: &[i8; 4], off2: u32) -> (u32, u32) {
    let v = word(x);
    (sxtab16(off2, v), sxtab16_ror8(off2, v))
}

/// Four int8 weights as the two pairs: lanes 0 and 2, then 1 and 3.
#[inline(always)]
fn widen_w(w: &[i8; 4]) -> (u32, u32) {
    let v = word(w);
    (sxtb16(v), sxtb16_ror8(v))
}

/// DSP four-lane multiply-accumulate (see [`super::mac4_offset`]).
#[inline(always)]
pub fn mac4_offset(acc: &mut [i32; 4], x: &[i8; 4], w: &[i8; 4], offset: i32) {
    let (x02, x13) = widen_x(x, offset_pair(offset));
    let (w02, w13) = widen_w(w);
    acc[0] = smlabb(x02, w02, acc[0]);
    acc[2] = smlatt(x02, w02, acc[2]);
    acc[1] = smlabb(x13, w13, acc[1]);
    acc[3] = smlatt(x13, w13, acc[3]);
}

/// DSP `sum((x[i] + offset) * w[i])`.
#[inline(always)]
pub fn dot_offset(x: &[i8], w: &[i8], offset: i32) -> i32 {
    let n = x.len().min(w.len());
    let (x, w) = (&x[..n], &w[..n]);
    let off2 = offset_pair(offset);
    let mut acc = 0i32;
    let ((xc, xr), (wc, wr)) = (x.as_chunks::<4>(), w.as_chunks::<4>());
    for (xb, wb) in xc.iter().zip(wc) {
        let ((x02, x13), (w02, w13)) = (widen_x(xb, off2), widen_w(wb));
        acc = smlad(x13, w13, smlad(x02, w02, acc));
    }
    portable::dot_acc(acc, xr, wr, offset)
}

/// One word (4 values) of [`dot2_offset`]: the input word widened once (with the
/// offset) for both weight rows, 8 MACs in 13 instructions.
macro_rules! dot2_chunk {
    () => {
        concat!(
            "ldr {x}, [{xp}], #4\n",
            "ldr {w}, [{p0}], #4\n",
            "sxtab16 {x02}, {off2}, {x}\n",
            "sxtab16 {x}, {off2}, {x}, ror #8\n",
            "sxtb16 {t}, {w}\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad {a0}, {x02}, {t}, {a0}\n",
            "smlad {a0}, {x}, {w}, {a0}\n",
            "ldr {w}, [{p1}], #4\n",
            "sxtb16 {t}, {w}\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad {a1}, {x02}, {t}, {a1}\n",
            "smlad {a1}, {x}, {w}, {a1}\n",
        )
    };
}

/// DSP pair of dot products sharing `x`: an assembly loop of two `dot2_chunk!`s per
/// iteration (16 MACs in 28 instructions), entered after an odd chunk.
#[inline(always)]
pub fn dot2_offset(x: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> (i32, i32) {
    let n = x.len().min(w0.len()).min(w1.len());
    let (x, w0, w1) = (&x[..n], &w0[..n], &w1[..n]);
    let (mut a0, mut a1) = (0i32, 0i32);
    let chunks = n / 4;
    if chunks > 0 {
        // SAFETY: reads `4 * chunks <= n` bytes from each of `x`, `w0` and `w1`
        // (`chunks >= 1`): one chunk first when `chunks` is odd, then two per
        // iteration until `xp` reaches `end`; ARMv7E-M `LDR` may be unaligned. Only
        // registers and flags change.
        unsafe {
            asm!(
                // `end - xp` is `4 * chunks`: bit 2 set when `chunks` is odd.
                "sub {x}, {end}, {xp}",
                "tst {x}, #4",
                "beq 2f",
                dot2_chunk!(),
                "cmp {xp}, {end}",
                "beq 3f",
                "2:",
                dot2_chunk!(),
                dot2_chunk!(),
                "cmp {xp}, {end}",
                "bne 2b",
                "3:",
                xp = inout(reg) x.as_ptr() => _,
                p0 = inout(reg) w0.as_ptr() => _,
                p1 = inout(reg) w1.as_ptr() => _,
                end = in(reg) x.as_ptr().add(4 * chunks),
                off2 = in(reg) offset_pair(offset),
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
    portable::dot2_acc((a0, a1), &x[tail..], &w0[tail..], &w1[tail..], offset)
}

/// DSP 2×2 block (see [`super::dot2x2_offset`]).
#[inline(always)]
pub fn dot2x2_offset(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> [i32; 4] {
    let n = x0.len().min(x1.len()).min(w0.len()).min(w1.len());
    let (x0, x1, w0, w1) = (&x0[..n], &x1[..n], &w0[..n], &w1[..n]);
    let off2 = offset_pair(offset);
    let mut acc = [0i32; 4];
    let ((c0, r0), (c1, r1)) = (x0.as_chunks::<4>(), x1.as_chunks::<4>());
    let ((d0, s0), (d1, s1)) = (w0.as_chunks::<4>(), w1.as_chunks::<4>());
    for (((xa, xb), wa), wb) in c0.iter().zip(c1).zip(d0).zip(d1) {
        let ((xa02, xa13), (xb02, xb13)) = (widen_x(xa, off2), widen_x(xb, off2));
        let ((wa02, wa13), (wb02, wb13)) = (widen_w(wa), widen_w(wb));
        acc[0] = smlad(xa13, wa13, smlad(xa02, wa02, acc[0]));
        acc[1] = smlad(xa13, wb13, smlad(xa02, wb02, acc[1]));
        acc[2] = smlad(xb13, wa13, smlad(xb02, wa02, acc[2]));
        acc[3] = smlad(xb13, wb13, smlad(xb02, wb02, acc[3]));
    }
    let (a0, a1) = portable::dot2_acc((acc[0], acc[1]), r0, s0, s1, offset);
    let (a2, a3) = portable::dot2_acc((acc[2], acc[3]), r1, s0, s1, offset);
    [a0, a1, a2, a3]
}
