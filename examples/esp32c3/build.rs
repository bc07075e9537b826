//! Adds embedded-test's linker script to the on-target test binary only (esp-hal's
//! build script already supplies `-Tlinkall.x` for every binary).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg-bin=hil_smoke=-Tembedded-test.x");
}
