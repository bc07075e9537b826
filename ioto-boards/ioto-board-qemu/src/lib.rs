//! # ioto-board-qemu
//!
//! Virtual boards for Ioto-rs in QEMU, standing in for the shipping chips so that the
//! same test and benchmark code runs in CI and on hardware:
//!
//! | board | QEMU | stands in for | target |
//! |---|---|---|---|
//! | `qemu-m4f` (feature `m4f`) | `qemu-system-arm -machine mps2-an386 -cpu cortex-m4` | nRF52840 | `thumbv7em-none-eabihf` |
//! | `qemu-m0` (feature `m0`) | `qemu-system-arm -machine mps2-an385` | RP2040 | `thumbv6m-none-eabi` |
//! | `qemu-rv32` (feature `rv32`) | `qemu-system-riscv32 -machine virt -bios none` | ESP32-C3 | `riscv32imc-unknown-none-elf` |
//!
//! The crate provides what a board provides: the entry point ([`entry`]), a console
//! over semihosting ([`println!`]), a monotonic [`Clock`](ioto_core::Clock) and an
//! instruction counter ([`counter`]), process exit with a status ([`exit`]), a panic
//! handler that reports failure, an optional heap, and a tiny on-target test harness
//! ([`harness`]) whose output `cargo xtask hil-test` reads.
//!
//! Run QEMU with `-icount shift=0` and the counter counts retired instructions exactly:
//! SysTick ticks × 40 on the M-profile boards, `mcycle` on RISC-V.
#![no_std]
#![deny(missing_docs)]

#[cfg(not(any(feature = "m4f", feature = "m0", feature = "rv32")))]
compile_error!("ioto-board-qemu: enable one of the features `m4f`, `m0` or `rv32`");

pub mod console;
pub mod counter;
pub mod footprint;
pub mod harness;
#[cfg(feature = "alloc")]
pub mod heap;
mod rt;
pub mod vectors;

pub use counter::{QemuClock, instructions};
pub use embassy_futures::block_on;
pub use rt::{entry, exit};

/// The name of the virtual board this firmware was built for.
pub const BOARD: &str = if cfg!(feature = "m4f") {
    "qemu-m4f"
} else if cfg!(feature = "m0") {
    "qemu-m0"
} else {
    "qemu-rv32"
};
