//! `cargo xtask hil-test`: on-target test suites on virtual boards (QEMU) or real
//! hardware (probe-rs).
//!
//! Every bin of a board's firmware crate is a suite, except `bench_*` bins (those are
//! `cargo xtask bench`'s). A suite passes when it exits 0 after printing the harness's
//! closing line with every declared test `ok`. Suites listed in `qemu_net::SUITES`
//! run on QEMU's restricted user-mode network with the loopback services they declare,
//! and pass only if the host-side checks of those services pass too.

use std::{path::PathBuf, time::Duration};

use crate::{
    Result,
    args::Args,
    boards::{self, Board},
    build::{self, FirmwareBuild},
    qemu, qemu_net,
    report::SuiteReport,
    toolchain, ui,
};

/// Options of one hil-test run.
#[derive(Debug, Clone)]
pub struct HilOptions {
    /// Per-suite time limit.
    pub timeout: Duration,
    /// Build with the `inject-failure` feature (xtask's own tests).
    pub inject_failure: bool,
    /// Target directory override (xtask's own tests).
    pub target_dir: Option<PathBuf>,
    /// Only the suites with these names (all when empty).
    pub suites: Vec<String>,
}

impl Default for HilOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(600),
            inject_failure: false,
            target_dir: None,
            suites: vec![],
        }
    }
}

/// The result of one suite on one board.
#[derive(Debug)]
pub struct Outcome {
    /// Board name.
    pub board: &'static str,
    /// Suite (bin) name.
    pub suite: String,
    /// The parsed report.
    pub report: SuiteReport,
    /// QEMU's exit code (`None`: killed at the time limit).
    pub code: Option<i32>,
    /// Seconds the run took.
    pub seconds: f64,
}

impl Outcome {
    /// Whether the suite passed.
    pub fn passed(&self) -> bool {
        self.report.success(self.code)
    }
}

/// `cargo xtask hil-test [--board <b>] [--emulator|--probe] [--timeout <s>] [--suite <s>]`.
pub fn cmd(raw: &[String]) -> Result {
    let args = Args::parse(
        raw,
        &["--emulator", "--probe", "--inject-failure"],
        &["--board", "--timeout", "--suite"],
    )?;
    let mut opts = HilOptions {
        inject_failure: args.flag("--inject-failure"),
        ..Default::default()
    };
    if let Some(t) = args.option("--timeout") {
        opts.timeout = Duration::from_secs(t.parse().map_err(|_| format!("bad --timeout `{t}`"))?);
    }
    opts.suites
        .extend(args.options("--suite").map(str::to_string));
    let chosen: Vec<&Board> = match args.option("--board") {
        Some(b) => vec![boards::find(b)?],
        None if args.flag("--probe") => boards::BOARDS.iter().filter(|b| !b.is_virtual()).collect(),
        None => boards::virtual_boards().collect(),
    };
    if args.flag("--probe") || chosen.iter().any(|b| !b.is_virtual()) {
        return probe(&chosen);
    }
    let outcomes = emulator(&chosen, &opts)?;
    summarize(&outcomes)
}

/// The feature sets every virtual board runs: all suites with `tls-rsa` and `tls-p384`
/// (so that `tls_algorithms` verifies RSA and P-384 chains on target), then the `tls_*`
/// suites again with the default TLS features (neither), which is what a device gets
/// without asking: RSA and P-384 chains refused with a typed error, and the recorded
/// session replayed through the common-profile verifier. The second pass reuses the first pass's dependencies (only the
/// ioto-transport units differ), so it costs two small rebuilds per board.
struct Pass {
    /// Cargo features of the firmware crate.
    features: &'static [&'static str],
    /// Only suites with this name prefix (all but `bench_*` when `None`).
    only_prefix: Option<&'static str>,
    /// Appended to the suite name in the report.
    label: &'static str,
}

/// The suite prefix of the default-TLS pass.
const DEFAULT_TLS_PREFIX: &str = "tls_";

fn passes(inject_failure: bool) -> [Pass; 2] {
    [
        Pass {
            features: if inject_failure {
                &["tls-rsa", "tls-p384", "inject-failure"]
            } else {
                &["tls-rsa", "tls-p384"]
            },
            only_prefix: None,
            label: "",
        },
        Pass {
            features: if inject_failure {
                &["inject-failure"]
            } else {
                &[]
            },
            only_prefix: Some(DEFAULT_TLS_PREFIX),
            label: " (default TLS, no tls-rsa/tls-p384)",
        },
    ]
}

/// Builds and runs every suite on each virtual board; returns all outcomes (the
/// caller decides what a failure means).
pub fn emulator(chosen: &[&'static Board], opts: &HilOptions) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for &board in chosen {
        for pass in passes(opts.inject_failure) {
            run_pass(board, opts, &pass, &mut outcomes)?;
        }
    }
    Ok(outcomes)
}

/// Builds one pass's suites for `board` and runs them, appending to `outcomes`.
fn run_pass(
    board: &'static Board,
    opts: &HilOptions,
    pass: &Pass,
    outcomes: &mut Vec<Outcome>,
) -> Result {
    let wanted = |name: &str| {
        pass.only_prefix.is_none_or(|p| name.starts_with(p))
            && (opts.suites.is_empty() || opts.suites.iter().any(|s| s == name))
    };
    if !opts.suites.is_empty() && !opts.suites.iter().any(|s| wanted(s)) {
        return Ok(());
    }
    let fb = FirmwareBuild {
        release: true,
        features: pass.features,
        target_dir: opts.target_dir.clone(),
        skip_prefix: Some("bench_"),
        only_prefix: pass.only_prefix,
        example: match opts.suites.as_slice() {
            [only] => Some(only.as_str()),
            _ => None,
        },
        ..Default::default()
    };
    // One cargo invocation per board and pass, so the suites build in parallel.
    let elfs: Vec<PathBuf> = build::firmware(board, &fb)?
        .into_iter()
        .filter(|elf| {
            elf.file_name()
                .is_some_and(|n| wanted(&n.to_string_lossy()))
        })
        .collect();
    for elf in elfs {
        let bin = elf
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let suite = format!("{bin}{}", pass.label);
        let step = ui::step(&format!("hil-test {suite} on {}", board.name));
        // Networked suites: their loopback services and QEMU's fenced network to them.
        let host = qemu_net::Session::start(&bin, board)?;
        let extra = match &host {
            Some(h) => h.qemu_args(board)?,
            None => Vec::new(),
        };
        let run = qemu::run_with(board, &elf, opts.timeout, &extra)?;
        let mut report = SuiteReport::parse(&run.stdout);
        if let Some(h) = host
            && let Err(msg) = h.finish()
            && report.failed.is_none()
        {
            report.failed = Some(("host-side checks".into(), msg));
        }
        let outcome = Outcome {
            board: board.name,
            suite,
            report,
            code: run.code,
            seconds: run.elapsed.as_secs_f64(),
        };
        for line in run.stdout.lines() {
            ui::info(line);
        }
        if !outcome.passed() {
            if run.code.is_none() {
                ui::error(&format!(
                    "killed after {}s without finishing",
                    opts.timeout.as_secs()
                ));
            }
            for line in run.stderr.lines().take(20) {
                ui::info(&format!("qemu: {line}"));
            }
        }
        step.done();
        outcomes.push(outcome);
    }
    Ok(())
}

/// Prints the per-suite table and fails if any suite failed.
pub fn summarize(outcomes: &[Outcome]) -> Result {
    println!(
        "\n{:<10} {:<16} {:>6} {:>7}  verdict",
        "board", "suite", "tests", "secs"
    );
    let mut failures = Vec::new();
    for o in outcomes {
        let verdict = match (&o.report.failed, o.passed(), o.code) {
            (Some((name, msg)), _, _) => {
                failures.push(format!(
                    "{} on {}: test `{name}` failed: {}",
                    o.suite,
                    o.board,
                    msg.trim()
                ));
                format!("FAILED ({name})")
            }
            (None, true, _) => "ok".to_string(),
            (None, false, None) => {
                failures.push(format!("{} on {}: timed out", o.suite, o.board));
                "TIMEOUT".to_string()
            }
            (None, false, code) => {
                failures.push(format!(
                    "{} on {}: exit {code:?} without a complete report",
                    o.suite, o.board
                ));
                "FAILED (incomplete report)".to_string()
            }
        };
        println!(
            "{:<10} {:<16} {:>6} {:>7.1}  {verdict}",
            o.board,
            o.suite,
            o.report.passed.len(),
            o.seconds
        );
    }
    let tests: usize = outcomes.iter().map(|o| o.report.passed.len()).sum();
    if outcomes.is_empty() {
        return Err("hil-test ran no suite".into());
    }
    if failures.is_empty() {
        println!(
            "hil-test: {} suites, {tests} on-target tests passed",
            outcomes.len()
        );
        Ok(())
    } else {
        Err(format!("hil-test failed:\n  {}", failures.join("\n  ")))
    }
}

/// Runs the `hil_*` suites of physical boards on real hardware with `probe-rs run`.
fn probe(chosen: &[&'static Board]) -> Result {
    if toolchain::which("probe-rs").is_none() {
        return Err(
            "`probe-rs` is not installed: `cargo install probe-rs-tools --locked`, attach \
                    the board's debug probe, then run `cargo xtask hil-test --probe --board <b>`"
                .into(),
        );
    }
    for &board in chosen {
        let boards::Kind::Physical(chip) = board.kind else {
            return Err(format!("{} is a virtual board: use --emulator", board.name));
        };
        let fb = FirmwareBuild {
            only_prefix: Some("hil_"),
            release: true,
            ..Default::default()
        };
        for elf in build::firmware(board, &fb)? {
            let mut c = std::process::Command::new("probe-rs");
            c.args(["run", "--chip", chip]).arg(&elf);
            build::run_checked(&mut c, &format!("{} on {}", elf.display(), board.name))?;
        }
    }
    Ok(())
}
