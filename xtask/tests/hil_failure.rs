//! xtask's own guarantee: a broken on-target test fails `cargo xtask hil-test`, and the
//! report names it. Runs the real xtask binary, the real cross build and QEMU.

use std::process::Command;

#[test]
fn a_failing_on_target_test_fails_hil_test_and_is_named() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // A target dir of its own: the outer `cargo test` holds the lock on the shared one.
    let target = root.join("target/xtask-selftest");
    for board in ["qemu-m4f", "qemu-m0", "qemu-rv32"] {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args([
                "hil-test",
                "--board",
                board,
                "--suite",
                "smoke",
                "--inject-failure",
                "--timeout",
                "120",
            ])
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("xtask runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "hil-test passed with a broken test on {board}:\n{stdout}\n{stderr}"
        );
        assert!(
            stdout.contains("FAILED (injected_failure)"),
            "the failing test is not named on {board}:\n{stdout}\n{stderr}"
        );
        assert!(
            stderr.contains("deliberately broken on-target test"),
            "panic message missing:\n{stderr}"
        );
        // The tests before the broken one still ran and passed.
        assert!(
            stderr.contains("test integer_arithmetic ... ok"),
            "{stderr}"
        );
    }
}
