//! The instruction counter and the clock built on it.
//!
//! Under `qemu -icount shift=0` every retired instruction advances virtual time by one
//! nanosecond, so the counter is exact and repeatable: benchmarks read it instead of a
//! wall clock. On Cortex-M it is SysTick (clocked at 25 MHz on the MPS2 boards, i.e.
//! one tick per 40 instructions) extended to 64 bits by its wrap interrupt; on RISC-V it
//! is `mcycle`/`mcycleh`.

use ioto_core::{Clock, Instant};

/// Instructions retired since [`start`] (exact under `-icount shift=0`, with the
/// resolution of one SysTick tick, 40 instructions, on the M-profile boards).
pub fn instructions() -> u64 {
    crate::rt::instructions()
}

/// Starts the counter. Called by [`harness::run`](crate::harness::run); call it
/// yourself in firmware that does not use the harness.
// Always inlined: firmware with the `time` driver (a second caller) then gets the
// same code as firmware without it.
#[inline(always)]
pub fn start() {
    crate::rt::start_counter();
}

/// A [`Clock`] over the instruction counter, taking one instruction as one
/// nanosecond (what `-icount shift=0` makes true in virtual time).
#[derive(Clone, Copy, Debug, Default)]
pub struct QemuClock;

impl Clock for QemuClock {
    fn now(&self) -> Instant {
        Instant(instructions() / 1_000)
    }
}
