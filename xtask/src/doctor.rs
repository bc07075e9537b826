//! `cargo xtask doctor [--install]`: what the project needs on this machine, what is
//! missing, and the command that installs it.

use std::process::Command;

use crate::{
    Result,
    args::Args,
    build::run_checked,
    toolchain::{self, TARGETS},
    ui,
};

/// How a missing tool is installed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fix {
    /// Debian packages; `true` adds `--no-install-recommends`.
    Apt(Vec<&'static str>, bool),
    /// The project's Python virtualenv (`.venv`, from `python/requirements.txt`).
    Venv,
    /// A cargo subcommand from crates.io: `cargo install <crate> --version <v> --locked`.
    Cargo(&'static str, &'static str),
    /// Something only a person can do; the text says what.
    Manual(&'static str),
}

impl Fix {
    fn command(&self) -> String {
        match self {
            Fix::Apt(pkgs, no_rec) => format!(
                "apt-get install -y {}{}",
                if *no_rec {
                    "--no-install-recommends "
                } else {
                    ""
                },
                pkgs.join(" ")
            ),
            Fix::Venv => {
                "python3 -m venv .venv && .venv/bin/pip install -r python/requirements.txt".into()
            }
            Fix::Cargo(krate, version) => {
                format!("cargo install {krate} --version {version} --locked")
            }
            Fix::Manual(s) => (*s).into(),
        }
    }
}

/// One requirement and how to check it.
struct Check {
    what: String,
    probe: Box<dyn Fn() -> std::result::Result<String, String>>,
    fix: Fix,
}

fn version_of(program: &str, args: &[&str]) -> std::result::Result<String, String> {
    toolchain::capture(Command::new(program).args(args))
        .map(|s| s.lines().next().unwrap_or("").trim().to_string())
        .ok_or_else(|| format!("`{program}` not found"))
}

/// Every external program that a test, bench or example spawns (by name, through
/// `PATH`), with the Debian package that installs it. `doctor` checks each one and
/// `doctor --install` installs the packages, so a fresh machine runs every suite; the
/// test `every_spawned_program_is_installed_by_doctor` fails when a `Command::new("…")`
/// in a test, bench or example names a program missing here.
pub const SPAWNED_PROGRAMS: &[(&str, &str)] = &[
    ("mosquitto", "mosquitto"),
    ("mosquitto_passwd", "mosquitto"),
    ("mosquitto_pub", "mosquitto-clients"),
    ("mosquitto_sub", "mosquitto-clients"),
    ("openssl", "openssl"),
    ("kill", "procps"),
    ("id", "coreutils"),
    ("qemu-system-arm", "qemu-system-arm"),
    // The NEON kernel firmware of `cargo xtask test` (ioto-ml/tests-aarch64).
    ("qemu-system-aarch64", "qemu-system-arm"),
    ("qemu-system-riscv32", "qemu-system-misc"),
    // ioto-ml/tests/keyword.rs speaks fresh "yes"/"no" clips for micro_speech.
    ("espeak-ng", "espeak-ng"),
    ("sox", "sox"),
];

/// cargo-fuzz, which `cargo xtask fuzz` (and the brief fuzz run of `cargo xtask test`)
/// drives; pinned, installed with `cargo install --locked`.
pub const CARGO_FUZZ: (&str, &str) = ("cargo-fuzz", "0.13.2");

fn cargo_fuzz_check() -> Check {
    let (krate, version) = CARGO_FUZZ;
    Check {
        what: format!("{krate} {version} (`cargo xtask fuzz`)"),
        probe: Box::new(move || {
            let v = version_of("cargo", &["fuzz", "--version"])
                .map_err(|_| "`cargo fuzz` not found".to_string())?;
            if v.split_whitespace().any(|w| w == version) {
                Ok(v)
            } else {
                Err(format!("found `{v}`, want {version}"))
            }
        }),
        fix: Fix::Cargo(krate, version),
    }
}

/// Installs cargo-fuzz if `cargo fuzz` is missing or not [`CARGO_FUZZ`]'s version.
pub fn ensure_cargo_fuzz() -> Result {
    let check = cargo_fuzz_check();
    if (check.probe)().is_ok() {
        return Ok(());
    }
    install_cargo(&check.fix)?;
    (check.probe)()
        .map(|_| ())
        .map_err(|why| format!("{}: {why}", check.what))
}

fn install_cargo(fix: &Fix) -> Result {
    let Fix::Cargo(krate, version) = fix else {
        return Ok(());
    };
    let step = ui::step(&fix.command());
    run_checked(
        toolchain::host_cargo().args(["install", krate, "--version", version, "--locked"]),
        &fix.command(),
    )?;
    step.done();
    Ok(())
}

/// One check per Debian package of [`SPAWNED_PROGRAMS`]: every program it provides is
/// on `PATH`.
fn spawned_program_checks() -> Vec<Check> {
    let mut packages: Vec<&'static str> = SPAWNED_PROGRAMS.iter().map(|(_, p)| *p).collect();
    packages.sort_unstable();
    packages.dedup();
    packages
        .into_iter()
        .map(|package| {
            let programs: Vec<&'static str> = SPAWNED_PROGRAMS
                .iter()
                .filter(|(_, p)| *p == package)
                .map(|(name, _)| *name)
                .collect();
            Check {
                what: format!("`{}` (Debian {package})", programs.join("`, `")),
                probe: Box::new(move || {
                    let mut found = Vec::new();
                    for prog in &programs {
                        let path =
                            toolchain::which(prog).ok_or_else(|| format!("`{prog}` not found"))?;
                        found.push(path.display().to_string());
                    }
                    Ok(found.join(", "))
                }),
                fix: Fix::Apt(vec![package], true),
            }
        })
        .collect()
}

fn checks() -> Vec<Check> {
    let mut all = vec![
        Check {
            what: "host Rust toolchain (>= 1.95) with rustfmt and clippy".into(),
            probe: Box::new(|| {
                let v = version_of("rustc", &["--version"])?;
                version_of("cargo", &["fmt", "--version"])?;
                version_of("cargo", &["clippy", "--version"])?;
                Ok(v)
            }),
            fix: Fix::Manual("rustup toolchain install stable --component rustfmt clippy"),
        },
        Check {
            what: "cross toolchain for thumbv7em / thumbv6m / riscv32imc".into(),
            probe: Box::new(|| {
                let mut how = Vec::new();
                for t in TARGETS {
                    how.push(toolchain::cross(t)?.describe);
                }
                how.dedup();
                Ok(how.join("; "))
            }),
            fix: Fix::Apt(toolchain::SYSTEM_TOOLCHAIN_APT.to_vec(), false),
        },
        Check {
            what: "python3 with venv and ensurepip (for .venv)".into(),
            probe: Box::new(|| {
                version_of(
                    "python3",
                    &["-c", "import venv, ensurepip, sys; print(sys.version)"],
                )
            }),
            fix: Fix::Apt(vec!["python3-venv"], true),
        },
        Check {
            what: "Python peers and oracles in .venv (python/requirements.txt)".into(),
            probe: Box::new(venv_state),
            fix: Fix::Venv,
        },
    ];
    all.extend(spawned_program_checks());
    all.push(cargo_fuzz_check());
    all
}

/// The project's virtualenv and whether it matches `python/requirements.txt`.
fn venv_state() -> std::result::Result<String, String> {
    let root = toolchain::repo_root();
    let python = root.join(".venv/bin/python3");
    if !python.exists() {
        return Err(".venv missing".into());
    }
    let wanted =
        std::fs::read_to_string(root.join("python/requirements.txt")).map_err(|e| e.to_string())?;
    let stamp = std::fs::read_to_string(root.join(".venv/.ioto-requirements")).unwrap_or_default();
    if stamp != wanted {
        return Err("installed packages differ from python/requirements.txt".into());
    }
    version_of(&python.display().to_string(), &["--version"])
}

/// The project's Python interpreter (in `.venv`).
pub fn python() -> std::path::PathBuf {
    toolchain::repo_root().join(".venv/bin/python3")
}

/// Whether this process runs as root (installs need no `sudo` then).
pub fn is_root() -> bool {
    toolchain::capture(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

fn install_venv() -> Result {
    let root = toolchain::repo_root();
    if !python().exists() {
        run_checked(
            Command::new("python3")
                .args(["-m", "venv", ".venv"])
                .current_dir(&root),
            "python3 -m venv .venv",
        )?;
    }
    run_checked(
        Command::new(python())
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                "-r",
                "python/requirements.txt",
            ])
            .current_dir(&root),
        "pip install -r python/requirements.txt",
    )?;
    let wanted =
        std::fs::read_to_string(root.join("python/requirements.txt")).map_err(|e| e.to_string())?;
    std::fs::write(root.join(".venv/.ioto-requirements"), wanted).map_err(|e| e.to_string())
}

/// `cargo xtask doctor [--install]`.
pub fn cmd(raw: &[String]) -> Result {
    let args = Args::parse(raw, &["--install"], &[])?;
    run(args.flag("--install"))
}

/// Checks everything; with `install`, installs what is missing and checks again.
pub fn run(install: bool) -> Result {
    let step = ui::step(if install {
        "doctor --install"
    } else {
        "doctor"
    });
    let mut missing = Vec::new();
    for c in checks() {
        match (c.probe)() {
            Ok(v) => ui::info(&format!("ok       {}: {v}", c.what)),
            Err(why) => {
                ui::info(&format!(
                    "MISSING  {}: {why}\n             fix: {}",
                    c.what,
                    c.fix.command()
                ));
                missing.push(c);
            }
        }
    }
    if missing.is_empty() {
        step.done();
        return Ok(());
    }
    if !install {
        return Err(format!(
            "{} requirement(s) missing; `cargo xtask doctor --install` installs them",
            missing.len()
        ));
    }
    let apt: Vec<&Fix> = missing
        .iter()
        .map(|c| &c.fix)
        .filter(|f| matches!(f, Fix::Apt(..)))
        .collect();
    if !apt.is_empty() {
        if !is_root() {
            return Err(
                "missing Debian packages and not root: run the apt-get lines above with sudo"
                    .into(),
            );
        }
        run_checked(
            Command::new("apt-get")
                .args(["update", "-qq"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "apt-get update",
        )?;
        for f in apt {
            let Fix::Apt(pkgs, no_rec) = f else { continue };
            let mut c = Command::new("apt-get");
            c.args(["install", "-y", "-qq"])
                .env("DEBIAN_FRONTEND", "noninteractive");
            if *no_rec {
                c.arg("--no-install-recommends");
            }
            c.args(pkgs);
            run_checked(&mut c, &f.command())?;
        }
    }
    if missing.iter().any(|c| c.fix == Fix::Venv) {
        install_venv()?;
    }
    for c in missing.iter().filter(|c| matches!(c.fix, Fix::Cargo(..))) {
        install_cargo(&c.fix)?;
    }
    let still: Vec<String> = checks()
        .into_iter()
        .filter_map(|c| {
            (c.probe)()
                .err()
                .map(|why| format!("{}: {why} (fix: {})", c.what, c.fix.command()))
        })
        .collect();
    if still.is_empty() {
        step.done();
        Ok(())
    } else {
        Err(format!(
            "still missing after install:\n  {}",
            still.join("\n  ")
        ))
    }
}

/// The program names of every `Command::new("literal")` in `source`.
#[cfg(test)]
fn spawned_literals(source: &str) -> Vec<String> {
    const CALL: &str = "Command::new(\"";
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(CALL) {
        rest = &rest[at + CALL.len()..];
        if let Some(end) = rest.find('"') {
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

#[cfg(test)]
/// Whether `rel` (relative to the repository root) is a test, bench or example source:
/// under a `tests`, `benches` or `examples` folder, or one of xtask's bench drivers
/// (`bench*.rs`, and `fuzz.rs`, which runs the fuzz campaigns).
fn is_test_bench_or_example(rel: &std::path::Path) -> bool {
    let in_folder = rel.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("tests" | "benches" | "examples")
        )
    });
    let xtask_bench = rel.starts_with("xtask/src")
        && rel
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("bench") || n == "fuzz.rs");
    in_folder || xtask_bench
}

#[cfg(test)]
/// Every `(file, program)` spawned by name in the tests, benches and examples under
/// `root` that [`SPAWNED_PROGRAMS`] does not list, and how many spawns were seen.
fn unlisted_spawns(root: &std::path::Path) -> (Vec<(String, String)>, usize) {
    let (mut unlisted, mut seen) = (Vec::new(), 0);
    let files = toolchain::rust_files(vec![root.to_path_buf()], |name| {
        name.starts_with('.') || name == "target"
    });
    for p in files {
        let Ok(rel) = p.strip_prefix(root) else {
            continue;
        };
        if !is_test_bench_or_example(rel) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        for prog in spawned_literals(&text) {
            seen += 1;
            if !SPAWNED_PROGRAMS.iter().any(|(n, _)| *n == prog) {
                unlisted.push((rel.display().to_string(), prog));
            }
        }
    }
    (unlisted, seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_literal_spawns() {
        let src = r#"let a = Command::new("mosquitto_pub").arg("-h"); Command::new(tool); std::process::Command::new("socat")"#;
        assert_eq!(spawned_literals(src), ["mosquitto_pub", "socat"]);
        assert!(is_test_bench_or_example(std::path::Path::new(
            "ioto-transport/tests/tls_mosquitto.rs"
        )));
        assert!(is_test_bench_or_example(std::path::Path::new(
            "xtask/src/bench_transport.rs"
        )));
        assert!(is_test_bench_or_example(std::path::Path::new(
            "xtask/src/fuzz.rs"
        )));
        assert!(!is_test_bench_or_example(std::path::Path::new(
            "xtask/src/doctor.rs"
        )));
    }

    #[test]
    fn every_spawned_program_is_installed_by_doctor() {
        let (unlisted, seen) = unlisted_spawns(&toolchain::repo_root());
        // The transport suites alone spawn mosquitto, openssl and mosquitto_pub.
        assert!(seen >= 3, "scanned too few spawns ({seen}): wrong root?");
        assert!(
            unlisted.is_empty(),
            "programs spawned by tests/benches/examples but not installed by \
             `cargo xtask doctor --install` (add them to doctor::SPAWNED_PROGRAMS): {unlisted:?}"
        );
    }

    /// `cargo xtask fuzz` spawns `cargo fuzz`: doctor checks for it and installs the
    /// pinned version.
    #[test]
    fn cargo_fuzz_is_checked_and_installed_by_doctor() {
        let checks = checks();
        let c = checks
            .iter()
            .find(|c| c.fix == Fix::Cargo("cargo-fuzz", "0.13.2"))
            .expect("a cargo-fuzz check");
        assert_eq!(
            c.fix.command(),
            "cargo install cargo-fuzz --version 0.13.2 --locked"
        );
    }

    #[test]
    fn every_listed_package_has_a_check() {
        let checks = checks();
        for (prog, package) in SPAWNED_PROGRAMS {
            assert!(
                checks.iter().any(|c| c.what.contains(&format!("`{prog}`"))
                    && c.fix == Fix::Apt(vec![package], true)),
                "{prog} ({package}) has no doctor check"
            );
        }
    }
}
