#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]

#[cfg(not(any(feature = "m4f", feature = "m0", feature = "rv32")))]
compile_error!("ioto-board-qemu: enable one of the features `m4f`, `m0` or `rv32`");

pub mod args;
pub mod console;
pub mod counter;
pub mod footprint;
pub mod harness;
#[cfg(feature = "alloc")]
pub mod heap;
#[cfg(feature = "net")]
pub mod net;
mod rt;
#[cfg(feature = "time")]
pub mod time;
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
