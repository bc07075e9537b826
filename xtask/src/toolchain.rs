//! Which toolchain builds what.
//!
//! The host toolchain (rustup stable) builds and tests everything that runs on the host.
//! Cross builds for the three shipping ISAs use, in order of preference:
//! 1. the rustup target, when `rustup target list --installed` has it;
//! 2. a system Rust toolchain that ships its own `rust-src` (Debian: `rustc-web`,
//!    `rust-web-src`, `lld-22`), building `core`/`alloc` from source with
//!    `-Zbuild-std=core,alloc` and `RUSTC_BOOTSTRAP=1` set for those builds only.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::Result;

/// The three targets every library crate must build for.
pub const TARGETS: [&str; 3] = [
    "thumbv7em-none-eabihf",
    "thumbv6m-none-eabi",
    "riscv32imc-unknown-none-elf",
];

/// The Debian packages that provide the system cross toolchain.
pub const SYSTEM_TOOLCHAIN_APT: [&str; 3] = ["rustc-web", "rust-web-src", "lld-22"];

/// How to invoke cargo for one cross target.
#[derive(Clone, Debug)]
pub struct Cross {
    /// The cargo binary to run.
    pub cargo: PathBuf,
    /// Environment to set for that cargo.
    pub env: Vec<(String, String)>,
    /// Whether `-Zbuild-std=core,alloc` is needed.
    pub build_std: bool,
    /// A one-line description for progress output.
    pub describe: String,
}

impl Cross {
    /// A `Command` for `cargo <sub>` with this toolchain's environment, running in `dir`.
    pub fn command(&self, sub: &str, dir: &Path) -> Command {
        let mut c = Command::new(&self.cargo);
        c.arg(sub).current_dir(dir);
        // Variables of the outer (host) cargo/rustup that must not leak into the cross build.
        for k in [
            "RUSTUP_TOOLCHAIN",
            "RUSTC",
            "RUSTDOC",
            "RUSTC_WRAPPER",
            "CARGO_BUILD_TARGET",
        ] {
            c.env_remove(k);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        if self.build_std {
            c.arg("-Zbuild-std=core,alloc");
        }
        c
    }
}

/// The repository root (the workspace that holds `xtask/`).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The one shared target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// The host cargo (the one running `cargo xtask`).
pub fn host_cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Output of a command, or `None` if it could not run or failed.
pub fn capture(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether rustup has the standard library for `target` installed.
fn rustup_has_target(target: &str) -> bool {
    capture(Command::new("rustup").args(["target", "list", "--installed"]))
        .is_some_and(|s| s.lines().any(|l| l.trim() == target))
}

/// A system rustc with its own `rust-src`, as Debian's `rustc-web` + `rust-web-src`.
fn system_toolchain() -> std::result::Result<Cross, String> {
    let rustc = std::env::var_os("IOTO_CROSS_RUSTC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/rustc"));
    let bin = rustc.parent().unwrap_or(Path::new("/usr/bin"));
    let cargo = bin.join("cargo");
    let rustdoc = bin.join("rustdoc");
    if !rustc.exists() || !cargo.exists() {
        return Err(format!("no system Rust toolchain at {}", bin.display()));
    }
    let sysroot = capture(Command::new(&rustc).args(["--print", "sysroot"]))
        .ok_or_else(|| format!("{} --print sysroot failed", rustc.display()))?;
    let library = Path::new(sysroot.trim()).join("lib/rustlib/src/rust/library/core/Cargo.toml");
    if !library.exists() {
        return Err(format!(
            "{} has no rust-src ({} missing)",
            rustc.display(),
            library.display()
        ));
    }
    if which("rust-lld").is_none() {
        return Err("no `rust-lld` linker in PATH".into());
    }
    let version = capture(Command::new(&rustc).arg("--version")).unwrap_or_default();
    Ok(Cross {
        cargo,
        env: vec![
            ("RUSTC".into(), rustc.display().to_string()),
            ("RUSTDOC".into(), rustdoc.display().to_string()),
            ("RUSTC_BOOTSTRAP".into(), "1".into()),
        ],
        build_std: true,
        describe: format!(
            "{} + build-std",
            version
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        ),
    })
}

/// The toolchain to cross-build for `target`, or what to install.
pub fn cross(target: &str) -> Result<Cross> {
    if rustup_has_target(target) {
        return Ok(Cross {
            cargo: "cargo".into(),
            env: vec![],
            build_std: false,
            describe: format!("rustup target {target}"),
        });
    }
    system_toolchain().map_err(|why| {
        format!(
            "no toolchain can build for {target}: rustup has no `{target}` and {why}.\n\
             Install one of:\n  rustup target add {target}\n  \
             apt-get install -y {}   (Debian; then `cargo xtask doctor`)",
            SYSTEM_TOOLCHAIN_APT.join(" ")
        )
    })
}

/// The full path of `program` in PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Every `.rs` file below `roots`, sorted, not descending into folders for which
/// `skip_dir(name)` holds.
pub fn rust_files(roots: Vec<PathBuf>, skip_dir: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut dirs = roots;
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            if p.is_dir() {
                if !skip_dir(&name.to_string_lossy()) {
                    dirs.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}
