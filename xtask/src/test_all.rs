//! `cargo xtask test`: everything a contributor must keep green, in one command.
//!
//! 1. `doctor --install` (so it works on a fresh Debian machine)
//! 2. formatting of every crate, in and out of the workspace
//! 3. clippy `-D warnings` and rustdoc `-D warnings`
//! 4. host unit and integration tests (real peers: mosquitto, Python servers), once with
//!    every feature and once more for ioto-transport with its default TLS features (no
//!    `tls-rsa` / `tls-p384`: RSA and P-384 chains refused with a typed error, the
//!    recorded session replayed without them), and the
//!    oracle checks: the committed TFLM goldens reproduce byte for byte from TFLM itself,
//!    and every single-op model agrees with its float twin; the aarch64 NEON kernels
//!    equal the portable ones on qemu-system-aarch64 (`ioto-ml/tests-aarch64`)
//! 5. cross builds of every library crate for the three shipping targets
//! 6. firmware of the physical boards
//! 7. `hil-test --emulator` on the three virtual boards (the `tls_*` suites twice: with
//!    and without `tls-rsa` and `tls-p384`)
//! 8. `cargo package` of the library crates
//! 9. every fuzz target briefly (`fuzz::brief`): it builds, replays its regressions and
//!    seeds, and fuzzes a few seconds without a crash
//!
//! Every step runs even after a failure, so one CI run reports everything; the command
//! fails if any step failed.

use std::{path::PathBuf, process::Command};

use crate::{
    Result,
    args::Args,
    boards::{self, Board, Kind},
    build::{self, FirmwareBuild, LIBRARIES, run_checked},
    doctor, fuzz, hil, qemu,
    toolchain::{self, TARGETS},
    ui,
};

/// `cargo xtask test`.
pub fn cmd(raw: &[String]) -> Result {
    Args::parse(raw, &[], &[])?;
    doctor::run(true)?;
    let mut results: Vec<(String, Result)> = Vec::new();
    let mut record = |name: &str, r: Result| {
        if let Err(e) = &r {
            ui::error(&format!("{name}: {e}"));
        }
        results.push((name.to_string(), r));
    };
    record("rustfmt", fmt());
    record("clippy", clippy());
    record("rustdoc", rustdoc());
    record("host tests", host_tests());
    record(
        "host tests, default TLS (no tls-rsa, no tls-p384)",
        default_tls_tests(),
    );
    record("TFLM goldens reproduce", oracle_checks());
    record("NEON kernels on qemu-system-aarch64", neon_on_qemu());
    for t in TARGETS {
        record(
            &format!("library crates for {t}"),
            build::libraries(t, true),
        );
    }
    for b in boards::BOARDS.iter().filter(|b| !b.is_virtual()) {
        record(&format!("firmware for {}", b.name), physical_firmware(b));
    }
    let virt: Vec<&'static Board> = boards::virtual_boards().collect();
    record(
        "hil-test --emulator",
        hil::emulator(&virt, &hil::HilOptions::default()).and_then(|o| hil::summarize(&o)),
    );
    record("cargo package", package());
    record("fuzz targets, briefly", fuzz::brief());

    let failed: Vec<&(String, Result)> = results.iter().filter(|(_, r)| r.is_err()).collect();
    println!("\nxtask test steps:");
    for (name, r) in &results {
        println!("  {:<44} {}", name, if r.is_ok() { "ok" } else { "FAILED" });
    }
    println!(
        "xtask: {} passed, {} failed",
        results.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} step(s) failed", failed.len()))
    }
}

/// The goldens the ml tests compare against are TFLM's output, not ours: regenerate
/// them with TFLM (from the committed models) and compare, and check each single-op
/// model against its float32 twin.
fn oracle_checks() -> Result {
    let step = ui::step("TFLM oracle: committed goldens reproduce; op models vs float twins");
    let tools = toolchain::repo_root().join("ioto-ml/tools");
    run_checked(
        Command::new(doctor::python())
            .arg(tools.join("gen_goldens.py"))
            .args(["--check", "--committed-models"]),
        "gen_goldens.py --check --committed-models",
    )?;
    run_checked(
        Command::new(doctor::python()).arg(tools.join("verify_op_models.py")),
        "verify_op_models.py",
    )?;
    step.done();
    Ok(())
}

/// The bare-metal target of the NEON kernel firmware.
const NEON_TARGET: &str = "aarch64-unknown-none";

/// QEMU's `virt` machine with a CPU; `-nic none`: no default virtio NIC (its option
/// ROM is not installed, and nothing here uses a network).
const fn aarch64_virt(name: &'static str, cpu: &'static [&'static str]) -> Board {
    Board {
        name,
        target: NEON_TARGET,
        firmware_dir: "ioto-ml/tests-aarch64",
        features: &[],
        kind: Kind::Virtual(cpu),
        chip: "Cortex-A",
        nic: None,
    }
}

/// `-cpu max` has the dot-product extension; the Cortex-A53 has NEON without it.
const AARCH64_MAX: Board = aarch64_virt(
    "qemu-system-aarch64 -machine virt -cpu max",
    &[
        "qemu-system-aarch64",
        "-machine",
        "virt",
        "-cpu",
        "max",
        "-nic",
        "none",
    ],
);
const AARCH64_A53: Board = aarch64_virt(
    "qemu-system-aarch64 -machine virt -cpu cortex-a53",
    &[
        "qemu-system-aarch64",
        "-machine",
        "virt",
        "-cpu",
        "cortex-a53",
        "-nic",
        "none",
    ],
);

/// ioto-ml's aarch64 NEON kernels (`kernels/dot/neon.rs`) on an emulated Cortex-A:
/// the firmware of `ioto-ml/tests-aarch64` compares every dot-product kernel with the
/// portable one and runs two golden models against TFLM's bytes. Built without
/// `+dotprod` (`SMULL`/`SADALP`; run on `-cpu max` and `-cpu cortex-a53`) and with
/// it (`SDOT`; `-cpu max`), each into its own target directory.
fn neon_on_qemu() -> Result {
    let step = ui::step("NEON kernels on qemu-system-aarch64 (ioto-ml/tests-aarch64)");
    let cross = toolchain::cross(NEON_TARGET)?;
    let dir = toolchain::repo_root().join(AARCH64_MAX.firmware_dir);
    let builds: [(&str, &str, &[&Board]); 2] = [
        ("smull", "", &[&AARCH64_MAX, &AARCH64_A53]),
        ("sdot", "-Ctarget-feature=+dotprod", &[&AARCH64_MAX]),
    ];
    for (variant, rustflags, boards) in builds {
        let target_dir = toolchain::target_dir().join(format!("neon-{variant}"));
        let mut c = cross.command("build", &dir);
        c.args(["--release", "--target", NEON_TARGET, "--target-dir"])
            .arg(&target_dir)
            .env("RUSTFLAGS", rustflags);
        run_checked(
            &mut c,
            &format!("building ioto-ml/tests-aarch64 ({variant})"),
        )?;
        let elf = target_dir.join(NEON_TARGET).join("release/neon_kernels");
        for board in boards {
            let run = qemu::run(board, &elf, std::time::Duration::from_secs(60))?;
            let what = format!("neon_kernels ({variant}) on {}", board.name);
            // `SYS_WRITE0` goes to QEMU's semihosting console: its stderr.
            let console = format!("{}{}", run.stdout, run.stderr);
            eprint!("{console}");
            let passed = format!("neon_kernels: ok ({variant})");
            if run.code != Some(0) || !console.lines().any(|l| l == passed) {
                return Err(format!(
                    "{what}: exit {:?} (None: killed at the time limit), no `{passed}` line",
                    run.code
                ));
            }
            ui::info(&format!("{what}: ok in {:.1}s", run.elapsed.as_secs_f64()));
        }
    }
    step.done();
    Ok(())
}

/// Crates outside the workspace: firmware, the size probe and the fuzz targets
/// (checked with rustfmt directly).
fn out_of_workspace_sources() -> Vec<PathBuf> {
    let root = toolchain::repo_root();
    let dirs = vec![
        root.join("ioto-boards"),
        root.join("examples"),
        root.join("ioto-transport/size-probe"),
        root.join("ioto-ml/fuzz"),
        root.join("ioto-ml/tests-aarch64"),
        root.join("ioto-transport/fuzz"),
        root.join("ioto-cloud/fuzz"),
        root.join("ioto-core/fuzz"),
        root.join("ioto-boards/ioto-board-host/fuzz"),
    ];
    toolchain::rust_files(dirs, |name| name == "target" || name == "ioto-board-host")
}

fn fmt() -> Result {
    let step = ui::step("rustfmt --check");
    run_checked(
        toolchain::host_cargo().args(["fmt", "--all", "--check"]),
        "cargo fmt --all --check",
    )?;
    let files = out_of_workspace_sources();
    if !files.is_empty() {
        let mut c = Command::new("rustfmt");
        c.args(["--check", "--edition", "2024"]).args(&files);
        run_checked(&mut c, "rustfmt --check (firmware crates)")?;
    }
    step.done();
    Ok(())
}

fn clippy() -> Result {
    let step = ui::step("clippy -D warnings");
    run_checked(
        toolchain::host_cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
        "cargo clippy",
    )?;
    step.done();
    Ok(())
}

fn rustdoc() -> Result {
    let step = ui::step("rustdoc -D warnings");
    run_checked(
        toolchain::host_cargo()
            .args(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-D warnings"),
        "cargo doc",
    )?;
    step.done();
    Ok(())
}

/// Environment for tests that start Python peers.
fn with_python_env(c: &mut Command) -> &mut Command {
    let python = doctor::python();
    let venv_bin = python.parent().map(PathBuf::from).unwrap_or_default();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![venv_bin];
    paths.extend(std::env::split_paths(&path));
    c.env("IOTO_PYTHON", &python);
    if let Ok(joined) = std::env::join_paths(paths) {
        c.env("PATH", joined);
    }
    c
}

fn host_tests() -> Result {
    let step = ui::step("host tests (cargo test --workspace --all-features)");
    run_checked(
        with_python_env(&mut toolchain::host_cargo()).args([
            "test",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ]),
        "cargo test --workspace",
    )?;
    step.done();
    Ok(())
}

/// `--all-features` turns `tls-rsa` and `tls-p384` on, so the TLS code a device gets by default
/// (feature `tls` alone) needs its own run: ioto-transport with `std` (which brings
/// `tls`) and its default features, nothing else. Only this crate's units rebuild.
fn default_tls_tests() -> Result {
    let step = ui::step("host tests (cargo test -p ioto-transport --features std)");
    run_checked(
        with_python_env(&mut toolchain::host_cargo()).args([
            "test",
            "-p",
            "ioto-transport",
            "--features",
            "std",
            "--no-fail-fast",
        ]),
        "cargo test -p ioto-transport --features std",
    )?;
    step.done();
    Ok(())
}

fn physical_firmware(board: &Board) -> Result {
    let dir = toolchain::repo_root().join(board.firmware_dir);
    if !dir.join("Cargo.toml").exists() {
        return Err(format!(
            "{} has no firmware crate at {}",
            board.name,
            dir.display()
        ));
    }
    build::firmware(
        board,
        &FirmwareBuild {
            release: true,
            ..Default::default()
        },
    )
    .map(|_| ())
}

fn package() -> Result {
    let step = ui::step("cargo package (library crates)");
    forget_packaged_sources()?;
    let mut c = toolchain::host_cargo();
    c.args(["package", "--allow-dirty"]);
    for (lib, _) in LIBRARIES {
        c.args(["-p", lib]);
    }
    run_checked(&mut c, "cargo package")?;
    step.done();
    Ok(())
}

/// `cargo package` verifies each crate against the others through a local overlay
/// registry and unpacks them under `$CARGO_HOME/registry/src/-<hash>/<name>-<version>`;
/// a later run with the same version reuses that unpacked copy, so a crate would be
/// verified against an *earlier* state of its sibling (seen: ioto-transport built
/// against an ioto-core without `outbox`). Remove those copies of our crates first.
fn forget_packaged_sources() -> Result {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let Ok(registries) = std::fs::read_dir(home.join("registry/src")) else {
        return Ok(());
    };
    for reg in registries.flatten() {
        // Overlay registries have no name: their directory starts with '-'.
        if !reg.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(crates) = std::fs::read_dir(reg.path()) else {
            continue;
        };
        for krate in crates.flatten() {
            let name = krate.file_name().to_string_lossy().into_owned();
            let ours = LIBRARIES
                .iter()
                .any(|(lib, _)| name.strip_prefix(lib).is_some_and(|v| v.starts_with('-')));
            if ours {
                std::fs::remove_dir_all(krate.path())
                    .map_err(|e| format!("removing {}: {e}", krate.path().display()))?;
            }
        }
    }
    Ok(())
}
