//! Adds embedded-test's linker script to the on-target test binary only (esp-hal's
//! build script already supplies `-Tlinkall.x` for every binary).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg-bin=hil_smoke=-Tembedded-test.x");
    // embedded-test's macro emits `cfg(rust_analyzer)`.
    println!("cargo::rustc-check-cfg=cfg(rust_analyzer)");
}
