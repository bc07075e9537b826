//! ioto-ml's inner kernels on every virtual board: `kernels::dot::check::run`
//! compares each kernel this target dispatches to (Cortex-M4: the DSP dot products,
//! quad kernel, depthwise tap rows, 3×3 window and single-rounding requantization;
//! Cortex-M0: the `asm!` loops; RISC-V: its own kernels) with a scalar reference bit
//! for bit; person_detect (every CONV_2D and DEPTHWISE_CONV_2D path, including the
//! depth-multiplier-8 first layer) matches its TFLM golden outputs byte for byte.
#![no_std]
#![no_main]

extern crate alloc;

use ioto_board_qemu::{entry, harness, tests};

#[macro_use]
#[path = "ml_common/golden.rs"]
mod golden;

use golden::check;

/// The first two person_detect golden cases, every output byte compared.
fn person_detect() {
    check(golden!("person_detect", [0, 1], 9216, 2));
}

/// Every kernel of this target against the reference (`ioto_ml::kernels::dot::check`).
fn kernels_match_reference() {
    match ioto_ml::kernels::dot::check::run() {
        Ok(n) => assert!(n > 10_000, "only {} comparisons", n),
        Err(e) => panic!("{}", e),
    }
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(128 * 1024);
    harness::run("ml_kernels", tests![kernels_match_reference, person_detect])
}
