//! Puts `memory.x` on the linker search path and adds embedded-test's linker script to
//! the on-target test binary only.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg-bin=hil_smoke=-Tembedded-test.x");
    // embedded-test's macro emits `cfg(rust_analyzer)`.
    println!("cargo::rustc-check-cfg=cfg(rust_analyzer)");
}
