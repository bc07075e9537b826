//! `cargo xtask build`: library crates and firmware for a board's target.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::Stdio,
};

use crate::{
    Result,
    args::Args,
    boards::{self, Board},
    toolchain::{self, Cross},
    ui,
};

/// The library crates, with the features to build them with for bare-metal targets
/// (everything a device uses: TLS for the transports and the cloud clients on top).
pub const LIBRARIES: [(&str, &[&str]); 4] = [
    ("ioto-core", &[]),
    ("ioto-ml", &[]),
    ("ioto-transport", &["tls"]),
    ("ioto-cloud", &["tls"]),
];

/// `cargo xtask build --board <b> [--example <e>] [--debug]`.
pub fn cmd(raw: &[String]) -> Result {
    let args = Args::parse(raw, &["--debug", "--release"], &["--board", "--example"])?;
    let board = boards::find(args.option("--board").ok_or("build needs --board <b>")?)?;
    let release = !args.flag("--debug");
    if args.option("--example").is_none() {
        libraries(board.target, release)?;
    }
    let opts = FirmwareBuild {
        example: args.option("--example"),
        release,
        ..Default::default()
    };
    let elfs = firmware(board, &opts)?;
    for elf in elfs {
        ui::info(&format!("built {}", elf.display()));
    }
    Ok(())
}

/// Builds every library crate for `target`.
pub fn libraries(target: &str, release: bool) -> Result {
    let cross = toolchain::cross(target)?;
    let step = ui::step(&format!("library crates for {target} ({})", cross.describe));
    let mut c = cross.command("build", &toolchain::repo_root());
    c.args(["--target", target, "--target-dir"])
        .arg(toolchain::target_dir());
    if release {
        c.arg("--release");
    }
    for (lib, features) in LIBRARIES {
        c.args(["-p", lib]);
        for f in features {
            c.args(["--features", &format!("{lib}/{f}")]);
        }
    }
    run_checked(&mut c, &format!("building the library crates for {target}"))?;
    step.done();
    Ok(())
}

/// What to build of a board's firmware crate.
#[derive(Debug, Default)]
pub struct FirmwareBuild<'a> {
    /// Only this bin; all bins when `None`.
    pub example: Option<&'a str>,
    /// Release profile (the default everywhere in xtask).
    pub release: bool,
    /// Bins to leave out (by name prefix), when building all.
    pub skip_prefix: Option<&'a str>,
    /// Only bins with this name prefix, when building all.
    pub only_prefix: Option<&'a str>,
    /// Extra cargo features.
    pub features: &'a [&'a str],
    /// A different target directory (xtask's own tests use one).
    pub target_dir: Option<PathBuf>,
    /// Another firmware crate for the board (relative to the repo root) instead of the
    /// board's own, e.g. `examples/microflow-cmp`; it must have the board's features.
    pub crate_dir: Option<&'a str>,
    /// Build with `--no-default-features` (then `features` says what to build).
    pub no_default_features: bool,
}

/// The bin names of a firmware crate (`src/bin/*.rs` and `src/bin/*/main.rs`).
pub fn bin_names(crate_dir: &str) -> Result<Vec<String>> {
    let dir = toolchain::repo_root().join(crate_dir).join("src/bin");
    let mut names = Vec::new();
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = if path.is_dir() && path.join("main.rs").exists() {
            path.file_name().map(|n| n.to_string_lossy().into_owned())
        } else if path.extension().is_some_and(|e| e == "rs") {
            path.file_stem().map(|n| n.to_string_lossy().into_owned())
        } else {
            None
        };
        names.extend(name);
    }
    names.sort();
    Ok(names)
}

/// Builds a board's firmware and returns the ELF files produced.
pub fn firmware(board: &Board, opts: &FirmwareBuild<'_>) -> Result<Vec<PathBuf>> {
    let cross = toolchain::cross(board.target)?;
    let crate_dir = opts.crate_dir.unwrap_or(board.firmware_dir);
    let bins: Vec<String> = match opts.example {
        Some(e) => vec![e.to_string()],
        None => bin_names(crate_dir)?
            .into_iter()
            .filter(|n| opts.skip_prefix.is_none_or(|p| !n.starts_with(p)))
            .filter(|n| opts.only_prefix.is_none_or(|p| n.starts_with(p)))
            .collect(),
    };
    if bins.is_empty() {
        return Ok(Vec::new());
    }
    let step = ui::step(&format!(
        "firmware for {} ({}, {}; {}): {}",
        board.name,
        board.chip,
        board.target,
        cross.describe,
        bins.join(", ")
    ));
    let dir = toolchain::repo_root().join(crate_dir);
    let mut c = cross.command("build", &dir);
    let target_dir = opts
        .target_dir
        .clone()
        .unwrap_or_else(toolchain::target_dir);
    c.args(["--target", board.target, "--target-dir"])
        .arg(&target_dir);
    c.arg("--message-format=json-render-diagnostics");
    if opts.release {
        c.arg("--release");
    }
    if opts.no_default_features {
        c.arg("--no-default-features");
    }
    let features: Vec<&str> = board
        .features
        .iter()
        .chain(opts.features)
        .copied()
        .collect();
    if !features.is_empty() {
        c.args(["--features", &features.join(",")]);
    }
    for b in &bins {
        c.args(["--bin", b]);
    }
    let elfs = run_collecting_executables(&mut c, &cross, board)?;
    step.done();
    Ok(elfs)
}

/// Runs cargo with JSON messages, passing diagnostics through, and returns the
/// executables it reports.
fn run_collecting_executables(
    c: &mut std::process::Command,
    cross: &Cross,
    board: &Board,
) -> Result<Vec<PathBuf>> {
    c.stdout(Stdio::piped());
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", cross.cargo.display()))?;
    let mut elfs = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out)
            .lines()
            .map_while(std::result::Result::ok)
        {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if msg["reason"] == "compiler-artifact"
                && let Some(exe) = msg["executable"].as_str()
            {
                elfs.push(PathBuf::from(exe));
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "firmware build for {} failed ({status})",
            board.name
        ));
    }
    elfs.sort();
    Ok(elfs)
}

/// Runs a command, turning a non-zero exit into an error that says what failed.
pub fn run_checked(c: &mut std::process::Command, what: &str) -> Result {
    let status = c
        .status()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", c.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}
