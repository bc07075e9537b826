//! Writes the memory map of the selected virtual board to `memory.x` in OUT_DIR.
//!
//! The regions are capped at the real chip's sizes so that firmware that would not fit
//! the chip fails to link here too.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let boards = [
        ("CARGO_FEATURE_M4F", MEMORY_M4F),
        ("CARGO_FEATURE_M0", MEMORY_M0),
        ("CARGO_FEATURE_RV32", MEMORY_RV32),
    ];
    let chosen: Vec<_> = boards
        .iter()
        .filter(|(f, _)| env::var_os(f).is_some())
        .collect();
    let memory = match chosen.as_slice() {
        [(_, m)] => *m,
        [] => "/* no virtual board selected: enable one of m4f, m0, rv32 */\n",
        _ => panic!("ioto-board-qemu: enable exactly one of the features m4f, m0, rv32"),
    };
    fs::write(out.join("memory.x"), memory).expect("write memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=build.rs");
}

/// nRF52840: 1 MB flash, 256 KB RAM, at mps2-an386's SSRAM1 / SSRAM2 addresses.
const MEMORY_M4F: &str = "MEMORY
{
  FLASH : ORIGIN = 0x00000000, LENGTH = 1024K
  RAM   : ORIGIN = 0x20000000, LENGTH = 256K
}
";

/// RP2040: 2 MB flash, 264 KB SRAM, at mps2-an385's SSRAM1 / SSRAM2 addresses.
const MEMORY_M0: &str = "MEMORY
{
  FLASH : ORIGIN = 0x00000000, LENGTH = 2048K
  RAM   : ORIGIN = 0x20000000, LENGTH = 264K
}
";

/// ESP32-C3: 4 MB flash, 400 KB SRAM, placed in the `virt` machine's DRAM.
const MEMORY_RV32: &str = "MEMORY
{
  FLASH : ORIGIN = 0x80000000, LENGTH = 4096K
  RAM   : ORIGIN = 0x80400000, LENGTH = 400K
}
REGION_ALIAS(\"REGION_TEXT\", FLASH);
REGION_ALIAS(\"REGION_RODATA\", FLASH);
REGION_ALIAS(\"REGION_DATA\", RAM);
REGION_ALIAS(\"REGION_BSS\", RAM);
REGION_ALIAS(\"REGION_HEAP\", RAM);
REGION_ALIAS(\"REGION_STACK\", RAM);
";
