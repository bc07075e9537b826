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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fix {
    /// Debian packages; `true` adds `--no-install-recommends`.
    Apt(&'static [&'static str], bool),
    /// The project's Python virtualenv (`.venv`, from `python/requirements.txt`).
    Venv,
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
            Fix::Manual(s) => (*s).into(),
        }
    }
}

/// One requirement and how to check it.
struct Check {
    what: &'static str,
    probe: fn() -> std::result::Result<String, String>,
    fix: Fix,
}

fn version_of(program: &str, args: &[&str]) -> std::result::Result<String, String> {
    toolchain::capture(Command::new(program).args(args))
        .map(|s| s.lines().next().unwrap_or("").trim().to_string())
        .ok_or_else(|| format!("`{program}` not found"))
}

fn checks() -> Vec<Check> {
    vec![
        Check {
            what: "host Rust toolchain (>= 1.95) with rustfmt and clippy",
            probe: || {
                let v = version_of("rustc", &["--version"])?;
                version_of("cargo", &["fmt", "--version"])?;
                version_of("cargo", &["clippy", "--version"])?;
                Ok(v)
            },
            fix: Fix::Manual("rustup toolchain install stable --component rustfmt clippy"),
        },
        Check {
            what: "cross toolchain for thumbv7em / thumbv6m / riscv32imc",
            probe: || {
                let mut how = Vec::new();
                for t in TARGETS {
                    how.push(toolchain::cross(t)?.describe);
                }
                how.dedup();
                Ok(how.join("; "))
            },
            fix: Fix::Apt(&toolchain::SYSTEM_TOOLCHAIN_APT, false),
        },
        Check {
            what: "QEMU for Arm (qemu-m4f, qemu-m0)",
            probe: || version_of("qemu-system-arm", &["--version"]),
            fix: Fix::Apt(&["qemu-system-arm"], true),
        },
        Check {
            what: "QEMU for RISC-V (qemu-rv32)",
            probe: || version_of("qemu-system-riscv32", &["--version"]),
            fix: Fix::Apt(&["qemu-system-misc"], true),
        },
        Check {
            what: "mosquitto MQTT broker (transport tests)",
            probe: || {
                toolchain::which("mosquitto")
                    .map(|p| p.display().to_string())
                    .ok_or_else(|| "`mosquitto` not found".into())
            },
            fix: Fix::Apt(&["mosquitto"], true),
        },
        Check {
            what: "openssl CLI (TLS test certificates and peer)",
            probe: || version_of("openssl", &["version"]),
            fix: Fix::Apt(&["openssl"], true),
        },
        Check {
            what: "Python peers and oracles in .venv (python/requirements.txt)",
            probe: venv_state,
            fix: Fix::Venv,
        },
    ]
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

fn is_root() -> bool {
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
            c.args(*pkgs);
            run_checked(&mut c, &f.command())?;
        }
    }
    if missing.iter().any(|c| c.fix == Fix::Venv) {
        install_venv()?;
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
