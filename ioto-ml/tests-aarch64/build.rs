//! Links the firmware with `link.x` (QEMU `virt`: RAM at 0x4000_0000). Passed here,
//! not in `.cargo/config.toml`, so that `RUSTFLAGS=-Ctarget-feature=+dotprod` (the
//! SDOT build) does not replace it.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.x");
    println!("cargo:rerun-if-changed=link.x");
}
