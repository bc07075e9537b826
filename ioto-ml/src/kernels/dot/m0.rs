//! Kernels for Arm cores without the DSP extension (Cortex-M0/M0+, thumbv6m; also
//! M3): the hot loops in `asm!` with the four accumulators in the high registers
//! `r8`–`r11` (`ADD` reaches them in one instruction; the compiler keeps Thumb-1
//! code in `r0`–`r7`), so the low registers hold only pointers, weights and
//! products, and nothing spills. Every other kernel is the portable one. Bit-equal
//! to the portable kernels (host unit tests run the reference, the `ml` and
//! `ml_kernels` suites check these on qemu-m0).

use core::arch::asm;

/// `asm!` with `r8`–`r12` and `lr` clobbered (the loops keep their accumulators
/// and constants there): `[template lines]`, `[operands, each with a trailing
/// comma]`, then the options if any.
macro_rules! asm_high {
    ([$($code:expr),+ $(,)?], [$($ops:tt)*] $(, options($($o:ident),*))?) => {
        asm!(
            $($code),+,
            $($ops)*
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            out("lr") _,
            $(options($($o),*))?
        )
    };
}

/// `$lane!` for the four channels, into `r8`–`r11`.
macro_rules! lanes4 {
    ($lane:ident) => {
        concat!(
            $lane!("0" => "r8"),
            $lane!("1" => "r9"),
            $lane!("2" => "r10"),
            $lane!("3" => "r11"),
        )
    };
}

/// Loads the four accumulators at `[{$p}]` into `r8`–`r11` through `{$t}`.
#[rustfmt::skip]
macro_rules! acc4_in {
    ($p:literal, $t:literal) => {
        concat!(
            "ldr {", $t, "}, [{", $p, "}, #0]\n", "mov r8, {", $t, "}\n",
            "ldr {", $t, "}, [{", $p, "}, #4]\n", "mov r9, {", $t, "}\n",
            "ldr {", $t, "}, [{", $p, "}, #8]\n", "mov r10, {", $t, "}\n",
            "ldr {", $t, "}, [{", $p, "}, #12]\n", "mov r11, {", $t, "}\n",
        )
    };
}

/// Stores `r8`–`r11` to the four accumulators at `[{$p}]` through `{$t}`.
#[rustfmt::skip]
macro_rules! acc4_out {
    ($p:literal, $t:literal) => {
        concat!(
            "mov {", $t, "}, r8\n", "str {", $t, "}, [{", $p, "}, #0]\n",
            "mov {", $t, "}, r9\n", "str {", $t, "}, [{", $p, "}, #4]\n",
            "mov {", $t, "}, r10\n", "str {", $t, "}, [{", $p, "}, #8]\n",
            "mov {", $t, "}, r11\n", "str {", $t, "}, [{", $p, "}, #12]\n",
        )
    };
}

/// One chunk's words at byte offsets `$o0`..`$o3` (pixels 0..4; first or second
/// word of each) against the weights `{wa}` (low halfwords) and `{wb}` (high):
/// `acc[p] += lo * {wa} + hi * {wb}`, each word loaded once.
macro_rules! quad_half {
    ($($o:literal => $acc:literal),+) => {
        concat!($(
            "ldr {t}, [{xp}, #", $o, "]\n",
            "sxth {u}, {t}\n",
            "muls {u}, {wa}, {u}\n",
            "add ", $acc, ", {u}\n",
            "asrs {t}, {t}, #16\n",
            "muls {t}, {wb}, {t}\n",
            "add ", $acc, ", {t}\n",
        )+)
    };
}

use super::portable::dot2_acc;
pub(crate) use super::portable::offset_pair;
pub use super::portable::{dot_offset, dot2x2_offset, mac4_offset, widen4};

/// One tap's channel `$k` into `$acc`: `$acc += (x[$k] + r12) * w[$k]`.
macro_rules! tap_lane {
    ($k:literal => $acc:literal) => {
        concat!(
            "ldrb {x}, [{xp}, #",
            $k,
            "]\n",
            "sxtb {x}, {x}\n",
            "add {x}, r12\n",
            "ldrb {w}, [{wp}, #",
            $k,
            "]\n",
            "sxtb {w}, {w}\n",
            "muls {x}, {w}, {x}\n",
            "add ",
            $acc,
            ", {x}\n",
        )
    };
}

/// One row of `cols` depthwise taps of four channels (depth multiplier 1; the
/// contract of `rows::row4`) as one `asm!` loop: the accumulators in `r8`–`r11`,
/// the offset in `r12`, 32 instructions per tap of 4 MACs.
///
/// # Safety
/// Every tap's 4 bytes at `xp + i * step` and `wp + i * step` (`i < cols`) must be
/// readable.
#[inline(always)]
pub(crate) unsafe fn row4(
    acc: &mut [i32; 4],
    xp: *const i8,
    wp: *const i8,
    cols: usize,
    step: usize,
    off2: u32,
) {
    if cols == 0 {
        return;
    }
    // SAFETY: the caller guarantees every tap's reads; the loop writes only
    // `acc`, registers and flags.
    unsafe {
        asm_high!(
            [
                "mov r12, {w}",
                "mov lr, {x}",
                acc4_in!("x", "w"),
                "2:",
                lanes4!(tap_lane),
                "adds {xp}, {xp}, {step}",
                "adds {wp}, {wp}, {step}",
                "subs {n}, #1",
                "bne 2b",
                "mov {x}, lr",
                acc4_out!("x", "w"),
            ],
            [
                x = inout(reg) acc.as_mut_ptr() => _,
                w = inout(reg) off2 => _,
                xp = inout(reg) xp => _,
                wp = inout(reg) wp => _,
                n = inout(reg) cols => _,
                step = in(reg) step,
            ],
            options(nostack)
        );
    }
}

/// One weight lane `$k` of a shared-input tap: `$acc += x * w[$k]`.
macro_rules! shared_lane {
    ($k:literal => $acc:literal) => {
        concat!(
            "ldrb {w}, [{wp}, #",
            $k,
            "]\n",
            "sxtb {w}, {w}\n",
            "muls {w}, {x}, {w}\n",
            "add ",
            $acc,
            ", {w}\n",
        )
    };
}

/// One row of `cols` taps of four channels sharing one input channel (the
/// contract of `rows::row4_shared`) as one `asm!` loop: the accumulators in
/// `r8`–`r11`, the offset in `r12`, the weight step in `lr`, the accumulator
/// pointer on the stack; 23 instructions per tap of 4 MACs.
///
/// # Safety
/// Every tap's byte at `xp + i * x_step` and 4 bytes at `wp + i * w_step`
/// (`i < cols`) must be readable.
#[inline(always)]
pub(crate) unsafe fn row4_shared(
    acc: &mut [i32; 4],
    xp: *const i8,
    wp: *const i8,
    cols: usize,
    steps: [usize; 2],
    offset: i32,
) {
    if cols == 0 {
        return;
    }
    let args = [steps[0], steps[1], offset as usize];
    // SAFETY: the caller guarantees every tap's reads; the loop writes only
    // `acc`, registers, flags and one word below the stack pointer, popped again.
    unsafe {
        asm_high!(
            [
                acc4_in!("a", "w"),
                "push {{{a}}}",
                "ldr {w}, [{x}, #4]",
                "mov lr, {w}",
                "ldr {w}, [{x}, #8]",
                "mov r12, {w}",
                "ldr {a}, [{x}, #0]",
                "2:",
                "ldrb {x}, [{xp}, #0]",
                "sxtb {x}, {x}",
                "add {x}, r12",
                lanes4!(shared_lane),
                "adds {xp}, {xp}, {a}",
                "add {wp}, lr",
                "subs {n}, #1",
                "bne 2b",
                "pop {{{a}}}",
                acc4_out!("a", "w"),
            ],
            [
                a = inout(reg) acc.as_mut_ptr() => _,
                x = inout(reg) args.as_ptr() => _,
                xp = inout(reg) xp => _,
                wp = inout(reg) wp => _,
                n = inout(reg) cols => _,
                w = out(reg) _,
            ]
        );
    }
}

/// The quad kernel (contract of [`super::portable::quad_dot`]) as one `asm!`
/// loop with the accumulators in `r8`–`r11` and the end pointer in `r12`: per
/// chunk, weights 0 and 2 meet the low and high halfwords of each pixel's first
/// word, weights 1 and 3 those of its second word; every word is loaded once and
/// feeds two `MULS` (about 68 instructions per 16 MACs).
#[inline(always)]
pub fn quad_dot(xs: &[u32], w: &[i8], mut acc: [i32; 4]) -> [i32; 4] {
    let chunks = (xs.len() / 8).min(w.len() / 4);
    if chunks == 0 {
        return acc;
    }
    let end = xs.as_ptr().wrapping_add(8 * chunks);
    // SAFETY: the loop reads `chunks` chunks of 8 words of `xs` and 4 bytes of
    // `w`, all in bounds (checked above), and `acc`; it writes only `acc`,
    // registers and flags, and restores nothing it did not declare.
    unsafe {
        asm_high!(
            [
                "mov r12, {wa}",
                "mov lr, {wb}",
                acc4_in!("wb", "t"),
                "2:",
                "ldrb {wa}, [{wp}, #0]",
                "sxtb {wa}, {wa}",
                "ldrb {wb}, [{wp}, #2]",
                "sxtb {wb}, {wb}",
                quad_half!("0" => "r8", "8" => "r9", "16" => "r10", "24" => "r11"),
                "ldrb {wa}, [{wp}, #1]",
                "sxtb {wa}, {wa}",
                "ldrb {wb}, [{wp}, #3]",
                "sxtb {wb}, {wb}",
                quad_half!("4" => "r8", "12" => "r9", "20" => "r10", "28" => "r11"),
                "adds {xp}, #32",
                "adds {wp}, #4",
                "cmp {xp}, r12",
                "bne 2b",
                "mov {wb}, lr",
                acc4_out!("wb", "t"),
            ],
            [
                xp = inout(reg) xs.as_ptr() => _,
                wp = inout(reg) w.as_ptr() => _,
                wa = inout(reg) end => _,
                wb = inout(reg) acc.as_mut_ptr() => _,
                t = out(reg) _,
                u = out(reg) _,
            ],
            options(nostack)
        );
    }
    acc
}

/// One input value `$k` against both weight rows: `r8 += (x + r12) * w0`,
/// `r9 += (x + r12) * w1`.
macro_rules! pair_lane {
    ($k:literal) => {
        concat!(
            "ldrb {x}, [{xp}, #",
            $k,
            "]\n",
            "sxtb {x}, {x}\n",
            "add {x}, r12\n",
            "ldrb {t}, [{w0}, #",
            $k,
            "]\n",
            "sxtb {t}, {t}\n",
            "muls {t}, {x}, {t}\n",
            "add r8, {t}\n",
            "ldrb {t}, [{w1}, #",
            $k,
            "]\n",
            "sxtb {t}, {t}\n",
            "muls {t}, {x}, {t}\n",
            "add r9, {t}\n",
        )
    };
}

/// Two dot products sharing `x` (contract of [`super::portable::dot2_offset`]):
/// four values per step of one `asm!` loop with the accumulators in `r8`/`r9`,
/// the offset in `r12` and the end in `r10` (49 instructions per 8 MACs), the
/// tail in portable code.
#[inline(always)]
pub fn dot2_offset(x: &[i8], w0: &[i8], w1: &[i8], offset: i32) -> (i32, i32) {
    let n = x.len().min(w0.len()).min(w1.len());
    let body = n & !3;
    let mut acc = [0i32; 2];
    if body > 0 {
        let end = x.as_ptr().wrapping_add(body);
        // SAFETY: the loop reads `body <= n` bytes of each slice and writes only
        // `acc`, registers and flags.
        unsafe {
            asm!(
                "mov r12, {x}",
                "mov r10, {t}",
                "mov r11, {a}",
                "ldr {t}, [{a}, #0]",
                "mov r8, {t}",
                "ldr {t}, [{a}, #4]",
                "mov r9, {t}",
                "2:",
                pair_lane!("0"),
                pair_lane!("1"),
                pair_lane!("2"),
                pair_lane!("3"),
                "adds {xp}, #4",
                "adds {w0}, #4",
                "adds {w1}, #4",
                "cmp {xp}, r10",
                "bne 2b",
                "mov {a}, r11",
                "mov {t}, r8",
                "str {t}, [{a}, #0]",
                "mov {t}, r9",
                "str {t}, [{a}, #4]",
                a = inout(reg) acc.as_mut_ptr() => _,
                x = inout(reg) offset => _,
                t = inout(reg) end => _,
                xp = inout(reg) x.as_ptr() => _,
                w0 = inout(reg) w0.as_ptr() => _,
                w1 = inout(reg) w1.as_ptr() => _,
                out("r8") _,
                out("r9") _,
                out("r10") _,
                out("r11") _,
                out("r12") _,
                options(nostack),
            );
        }
    }
    let (x, w0, w1) = (
        x.get(body..n).unwrap_or_default(),
        w0.get(body..n).unwrap_or_default(),
        w1.get(body..n).unwrap_or_default(),
    );
    dot2_acc((acc[0], acc[1]), x, w0, w1, offset)
}
