//! Puts `memory.x` on the linker search path, adds embedded-test's linker script to the
//! on-target test binary only, and puts the CYW43 radio firmware into `OUT_DIR` for
//! `ioto_board_rp2040::cyw43_firmware!()`: copied from `$IOTO_CYW43_FIRMWARE_DIR`
//! (`43439A0.bin`, `43439A0_clm.bin`, `nvram_rp2040.bin`, as in embassy's
//! `cyw43-firmware` folder), or empty files without it (the firmware then builds, and
//! refuses to start the radio; see `ioto_board_rp2040::net`).
use std::{env, fs, path::PathBuf};

const BLOBS: [&str; 3] = ["43439A0.bin", "43439A0_clm.bin", "nvram_rp2040.bin"];

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg-bin=hil_smoke=-Tembedded-test.x");
    // embedded-test's macro emits `cfg(rust_analyzer)`.
    println!("cargo::rustc-check-cfg=cfg(rust_analyzer)");

    println!("cargo:rerun-if-env-changed=IOTO_CYW43_FIRMWARE_DIR");
    let dir = env::var_os("IOTO_CYW43_FIRMWARE_DIR").map(PathBuf::from);
    for blob in BLOBS {
        let target = out.join(blob);
        match &dir {
            Some(dir) => {
                let source = dir.join(blob);
                println!("cargo:rerun-if-changed={}", source.display());
                if let Err(e) = fs::copy(&source, &target) {
                    panic!(
                        "IOTO_CYW43_FIRMWARE_DIR: cannot copy {}: {e}",
                        source.display()
                    );
                }
            }
            None => fs::write(&target, []).expect("write an empty blob to OUT_DIR"),
        }
    }
    if dir.is_none() {
        println!(
            "cargo:warning=IOTO_CYW43_FIRMWARE_DIR is not set: blinky_agent is built without \
             the CYW43 radio firmware and will not start Wi-Fi (see ioto_board_rp2040::net)"
        );
    }
}
