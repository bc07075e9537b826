//! Rows of depthwise taps built from the target's single-tap kernels ([`tap4`],
//! [`tap4_shared`]: DSP on Cortex-M4, portable elsewhere). Cortex-M0 has its own
//! whole-row loops (`m0.rs`).

use super::{tap4, tap4_shared};

/// One row of `cols` taps of four channels (depth multiplier 1): [`tap4`] after
/// [`tap4`], both pointers advancing `step` bytes per tap, the accumulators in
/// registers. `off2` is `offset_pair(offset)`.
///
/// # Safety
/// Every tap's 4 bytes at `xp + i * step` and `wp + i * step` (`i < cols`) must be
/// readable.
#[inline(always)]
pub(crate) unsafe fn row4(
    acc: &mut [i32; 4],
    mut xp: *const i8,
    mut wp: *const i8,
    cols: usize,
    step: usize,
    off2: u32,
) {
    // SAFETY: the caller guarantees every tap's reads.
    unsafe {
        match cols {
            3 => {
                tap4(acc, &mut xp, &mut wp, step, off2);
                tap4(acc, &mut xp, &mut wp, step, off2);
                tap4(acc, &mut xp, &mut wp, step, off2);
            }
            2 => {
                tap4(acc, &mut xp, &mut wp, step, off2);
                tap4(acc, &mut xp, &mut wp, step, off2);
            }
            n => {
                for _ in 0..n {
                    tap4(acc, &mut xp, &mut wp, step, off2);
                }
            }
        }
    }
}

/// One row of `cols` taps of four channels sharing one input channel: the input
/// pointer advances `x_step` bytes per tap, the weights `w_step`.
///
/// # Safety
/// Every tap's byte at `xp + i * x_step` and 4 bytes at `wp + i * w_step`
/// (`i < cols`) must be readable.
#[inline(always)]
pub(crate) unsafe fn row4_shared(
    acc: &mut [i32; 4],
    mut xp: *const i8,
    mut wp: *const i8,
    cols: usize,
    [x_step, w_step]: [usize; 2],
    offset: i32,
) {
    for _ in 0..cols {
        // SAFETY: the caller guarantees every tap's reads.
        unsafe { tap4_shared(acc, &mut xp, &mut wp, x_step, w_step, offset) };
    }
}
