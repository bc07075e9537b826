//! `cargo xtask fuzz`: reproducible fuzz campaigns on every parser, reported like
//! benchmarks.
//!
//! ```text
//! cargo xtask fuzz list                                every target and the parser it covers
//! cargo xtask fuzz <target>...|--all [--minutes N]     campaigns (default 1 minute each)
//!                  [--seconds N] [--no-build]          shorter; reuse the binaries built
//! ```
//!
//! Each crate's fuzz crate (`<crate>/fuzz`, outside the workspace) is built by cargo-fuzz
//! (installed by `doctor` if missing) on the stable toolchain (`RUSTC_BOOTSTRAP=1`), into
//! `target/fuzz`. A campaign starts from a fresh copy of the committed seeds
//! (`<crate>/fuzz/seeds/<target>/`) in `target/fuzz/<target>/corpus`, so the repository
//! stays clean and every campaign starts from the same place. The table (runs, runs/s,
//! libFuzzer's `cov:` and `ft:`, corpus size, crashes) goes to `target/bench/fuzz.csv`.
//! A crash is copied into the crate's `tests/fuzz_regressions/` as `<target>-<artifact>`
//! and the command fails; [`brief`] (part of `cargo xtask test`) replays every one of
//! them through its target.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{
    Result,
    args::Args,
    bench::{self, Row},
    build::run_checked,
    doctor, toolchain, ui,
};

/// One fuzz target: its crate and what it covers.
pub struct Target {
    /// The `[[bin]]` name in the crate's `fuzz/Cargo.toml`.
    pub name: &'static str,
    /// The crate's directory, relative to the repository root.
    pub krate: &'static str,
    /// The parser it covers.
    pub covers: &'static str,
}

const fn t(name: &'static str, krate: &'static str, covers: &'static str) -> Target {
    Target {
        name,
        krate,
        covers,
    }
}

/// Every fuzz target, by crate. The test `table_matches_the_fuzz_crates` keeps this in
/// step with the `[[bin]]`s of the fuzz crates.
pub const TARGETS: &[Target] = &[
    t(
        "load_model",
        "ioto-ml",
        "TFLite flatbuffer loader + inspection API",
    ),
    t(
        "run_model",
        "ioto-ml",
        "loader + interpreter (64 KiB arena)",
    ),
    t(
        "mqtt_decode",
        "ioto-transport",
        "MQTT 3.1.1/5 packet decoder (round trip)",
    ),
    t(
        "http_response",
        "ioto-transport",
        "HTTP head, headers, body decoders",
    ),
    t(
        "ws_frame",
        "ioto-transport",
        "WebSocket frames, reassembly, UTF-8",
    ),
    t(
        "sse",
        "ioto-transport",
        "SSE parser (split anywhere = whole)",
    ),
    t(
        "tls_x509",
        "ioto-transport",
        "X.509 chain, SAN, name matching",
    ),
    t(
        "tls_rsa_chain",
        "ioto-transport",
        "RSA PKCS#1 v1.5 / PSS verification",
    ),
    t(
        "tls_handshake",
        "ioto-transport",
        "TLS 1.3 records, handshake, alerts",
    ),
    t(
        "outbox_flash",
        "ioto-transport",
        "FlashOutbox over a NorSim image",
    ),
    t("tool_args", "ioto-cloud", "tool-argument schema gate"),
    t(
        "stream_events",
        "ioto-cloud",
        "SSE into Chat/Responses/Anthropic streams",
    ),
    t(
        "tool_call",
        "ioto-cloud",
        "advisor::checked_command (tool -> Command)",
    ),
    t(
        "state_json",
        "ioto-core",
        "shadow delta/get/update accepted/rejected JSON",
    ),
    t(
        "state_cbor",
        "ioto-core",
        "cbor::decode_reported / decode_desired",
    ),
    t(
        "config_record",
        "ioto-core",
        "config::Config::from_bytes (postcard)",
    ),
    t("agent_records", "ioto-core", "agent::records::split"),
    t(
        "series_csv",
        "ioto-boards/ioto-board-host",
        "series_csv::SeriesReader (detect CSV)",
    ),
];

/// Seconds each target fuzzes in the brief run of `cargo xtask test` (after replaying
/// its seeds and regressions).
pub const BRIEF_SECONDS: u64 = 3;

impl Target {
    fn fuzz_dir(&self) -> PathBuf {
        toolchain::repo_root().join(self.krate).join("fuzz")
    }

    fn seeds(&self) -> PathBuf {
        self.fuzz_dir().join("seeds").join(self.name)
    }

    fn regression_dir(&self) -> PathBuf {
        toolchain::repo_root()
            .join(self.krate)
            .join("tests/fuzz_regressions")
    }

    /// The crate's committed regressions of this target (`<target>-*`); an error if
    /// the folder is missing, so a moved folder cannot silently replay nothing.
    fn regressions(&self) -> Result<Vec<PathBuf>> {
        let dir = self.regression_dir();
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("regression folder {}: {e}", dir.display()))?;
        let prefix = format!("{}-", self.name);
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// The work directory of this target's campaigns.
    fn work(&self) -> PathBuf {
        build_dir().join(self.name)
    }
}

/// Where cargo-fuzz builds (shared by the fuzz crates) and campaigns run.
fn build_dir() -> PathBuf {
    toolchain::target_dir().join("fuzz")
}

fn find(name: &str) -> Result<&'static Target> {
    TARGETS.iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        format!("no fuzz target `{name}` (targets: {})", names.join(", "))
    })
}

/// `cargo xtask fuzz ...`.
pub fn cmd(raw: &[String]) -> Result {
    let args = Args::parse(raw, &["--all", "--no-build"], &["--minutes", "--seconds"])?;
    if args.positional.first().map(String::as_str) == Some("list") {
        list();
        return Ok(());
    }
    let targets: Vec<&'static Target> = if args.flag("--all") {
        TARGETS.iter().collect()
    } else if args.positional.is_empty() {
        return Err("usage: cargo xtask fuzz list | <target>... | --all [--minutes N]".into());
    } else {
        args.positional
            .iter()
            .map(|n| find(n))
            .collect::<Result<_>>()?
    };
    let seconds = match (args.option("--minutes"), args.option("--seconds")) {
        (Some(m), _) => m
            .parse::<u64>()
            .map_err(|_| format!("--minutes {m}: not a whole number"))?
            .saturating_mul(60),
        (None, Some(s)) => s
            .parse::<u64>()
            .map_err(|_| format!("--seconds {s}: not a whole number"))?,
        (None, None) => 60,
    };
    if seconds == 0 {
        return Err("a campaign needs at least one second".into());
    }
    doctor::ensure_cargo_fuzz()?;
    // `--no-build`: fuzz the binaries already in target/fuzz (while a crate is mid-edit).
    if !args.flag("--no-build") {
        build(&targets)?;
    }
    let rows = campaigns(&targets, seconds, false)?;
    bench::write_table("fuzz", &rows)?;
    verdict(&rows)
}

fn list() {
    println!("{:<15} {:<28} covers", "target", "crate");
    for t in TARGETS {
        println!("{:<15} {:<28} {}", t.name, t.krate, t.covers);
    }
}

/// The brief run of `cargo xtask test`: every target builds, replays its regressions
/// and its seeds, and fuzzes [`BRIEF_SECONDS`] without a crash.
pub fn brief() -> Result {
    doctor::ensure_cargo_fuzz()?;
    let all: Vec<&'static Target> = TARGETS.iter().collect();
    build(&all)?;
    let rows = campaigns(&all, BRIEF_SECONDS, true)?;
    bench::write_table("fuzz-brief", &rows)?;
    verdict(&rows)
}

/// Fails when any row has a crash (or the run failed).
fn verdict(rows: &[Row]) -> Result {
    let bad: Vec<String> = rows
        .iter()
        .filter(|r| bench::field(r, "crashes") != Some("0"))
        .filter_map(|r| bench::field(r, "target").map(String::from))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzz target(s) crashed: {} (inputs copied to tests/fuzz_regressions/)",
            bad.join(", ")
        ))
    }
}

/// Builds the fuzz crates of `targets` (each crate once; only the targets asked for).
fn build(targets: &[&Target]) -> Result {
    let mut crates: Vec<&str> = targets.iter().map(|t| t.krate).collect();
    crates.dedup();
    for krate in crates {
        let names: Vec<&str> = targets
            .iter()
            .filter(|t| t.krate == krate)
            .map(|t| t.name)
            .collect();
        let all = TARGETS.iter().filter(|t| t.krate == krate).count() == names.len();
        let step = ui::step(&format!("cargo fuzz build ({krate}/fuzz)"));
        let dir = toolchain::repo_root().join(krate).join("fuzz");
        let mut builds: Vec<Option<&str>> = names.iter().map(|n| Some(*n)).collect();
        if all {
            builds = vec![None];
        }
        for name in builds {
            let mut c = toolchain::host_cargo();
            c.args(["fuzz", "build", "--target-dir"])
                .arg(build_dir())
                .args(name)
                .env("RUSTC_BOOTSTRAP", "1")
                .current_dir(&dir);
            run_checked(&mut c, &format!("cargo fuzz build in {krate}/fuzz"))?;
        }
        step.done();
    }
    Ok(())
}

/// The built binary of `name` (cargo-fuzz builds for its host triple).
fn binary(name: &str) -> Result<PathBuf> {
    let dir = build_dir();
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    entries
        .flatten()
        .map(|e| e.path().join("release").join(name))
        .filter(|p| p.is_file())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .ok_or_else(|| format!("no fuzz binary `{name}` under {}", dir.display()))
}

/// Runs every target for `seconds` and returns one row each. With `replay`, each
/// target first runs its committed regressions.
fn campaigns(targets: &[&Target], seconds: u64, replay: bool) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in targets {
        if replay {
            replay_regressions(t)?;
        }
        let step = ui::step(&format!("fuzz {} for {seconds} s", t.name));
        let out = campaign(t, seconds)?;
        step.done();
        let mut crashes = 0;
        for a in &out.artifacts {
            crashes += 1;
            let kept = keep_crash(t, a)?;
            ui::error(&format!(
                "{}: crash, input kept as {}\n{}",
                t.name,
                kept.display(),
                out.tail
            ));
        }
        if !out.ok && crashes == 0 {
            // libFuzzer stopped without leaving an input (e.g. it could not start).
            ui::error(&format!("{} failed:\n{}", t.name, out.tail));
            crashes = 1;
        }
        let cell = |v: u64| v.to_string();
        rows.push(vec![
            ("target".into(), t.name.into()),
            (
                "crate".into(),
                t.krate.rsplit('/').next().unwrap_or(t.krate).into(),
            ),
            ("seconds".into(), format!("{:.0}", out.seconds)),
            ("runs".into(), cell(out.stats.runs)),
            ("runs/s".into(), cell(out.stats.exec_per_sec)),
            ("cov".into(), cell(out.stats.cov)),
            ("ft".into(), cell(out.stats.ft)),
            ("corpus".into(), out.corpus.to_string()),
            ("seeds".into(), out.seeds.to_string()),
            ("crashes".into(), crashes.to_string()),
        ]);
    }
    Ok(rows)
}

/// Replays the target's committed regressions (each input once); fails if one crashes
/// or the folder is missing.
fn replay_regressions(t: &Target) -> Result {
    let files = t.regressions()?;
    if files.is_empty() {
        return Ok(());
    }
    let step = ui::step(&format!(
        "replay {} regression(s) of {}",
        files.len(),
        t.name
    ));
    let mut c = Command::new(binary(t.name)?);
    c.args(&files);
    run_checked(&mut c, &format!("{} on its regressions", t.name))?;
    step.done();
    Ok(())
}

/// What one campaign did.
struct Outcome {
    stats: Stats,
    seconds: f64,
    seeds: usize,
    corpus: usize,
    artifacts: Vec<PathBuf>,
    ok: bool,
    /// The end of libFuzzer's output, for the report of a failure.
    tail: String,
}

fn campaign(t: &Target, seconds: u64) -> Result<Outcome> {
    let work = t.work();
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    }
    let corpus = work.join("corpus");
    let artifacts = work.join("artifacts");
    for d in [&corpus, &artifacts] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let seeds = copy_files(&t.seeds(), &corpus)?;
    if seeds == 0 {
        return Err(format!("no seeds in {}", t.seeds().display()));
    }
    let start = Instant::now();
    let mut c = Command::new(binary(t.name)?);
    c.arg(&corpus)
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .args(["-print_final_stats=1", "-timeout=25", "-rss_limit_mb=2048"]);
    let out = c
        .output()
        .map_err(|e| format!("cannot start fuzz target {}: {e}", t.name))?;
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    std::fs::write(work.join("libfuzzer.log"), &log).map_err(|e| e.to_string())?;
    let tail: Vec<&str> = log.lines().rev().take(25).collect();
    Ok(Outcome {
        stats: Stats::parse(&log),
        seconds: start.elapsed().as_secs_f64(),
        seeds,
        corpus: count_files(&corpus),
        artifacts: list_files(&artifacts),
        ok: out.status.success(),
        tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

/// Copies a crash input into the crate's regression folder as `<target>-<name>`.
fn keep_crash(t: &Target, artifact: &Path) -> Result<PathBuf> {
    let dir = t.regression_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = artifact
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dest = dir.join(format!("{}-{name}", t.name));
    std::fs::copy(artifact, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    Ok(dest)
}

fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|it| {
            it.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn count_files(dir: &Path) -> usize {
    list_files(dir).len()
}

fn copy_files(from: &Path, to: &Path) -> Result<usize> {
    let files = list_files(from);
    for f in &files {
        if let Some(name) = f.file_name() {
            std::fs::copy(f, to.join(name)).map_err(|e| format!("{}: {e}", f.display()))?;
        }
    }
    Ok(files.len())
}

/// The numbers of a libFuzzer run: its final stats and its last status line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stats {
    /// `stat::number_of_executed_units`.
    runs: u64,
    /// `stat::average_exec_per_sec`.
    exec_per_sec: u64,
    /// Coverage (`cov:`, instrumented edges hit) at the last status line.
    cov: u64,
    /// Features (`ft:`) at the last status line.
    ft: u64,
}

impl Stats {
    fn parse(log: &str) -> Self {
        let mut s = Stats::default();
        for line in log.lines() {
            let mut words = line.split_whitespace();
            while let Some(w) = words.next() {
                let value = |v: Option<&str>| v.and_then(|v| v.parse::<u64>().ok());
                match w {
                    "cov:" => s.cov = value(words.next()).unwrap_or(s.cov),
                    "ft:" => s.ft = value(words.next()).unwrap_or(s.ft),
                    "stat::number_of_executed_units:" => {
                        s.runs = value(words.next()).unwrap_or(s.runs)
                    }
                    "stat::average_exec_per_sec:" => {
                        s.exec_per_sec = value(words.next()).unwrap_or(s.exec_per_sec)
                    }
                    _ => {}
                }
            }
        }
        s
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// libFuzzer's output of a real run (`agent_records`, 2 s from its seeds), the
    /// `INFO:` lines about modules left out.
    const LOG: &str = "\
INFO: seed corpus: files: 7 min: 1b max: 22b total: 60b rss: 32Mb
#8\tINITED cov: 25 ft: 25 corp: 3/15b exec/s: 0 rss: 33Mb
#21\tNEW    cov: 26 ft: 26 corp: 4/24b lim: 13 exec/s: 0 rss: 34Mb L: 9/13 MS: 3 CrossOver-ChangeBinInt-InsertRepeatedBytes-
#301\tREDUCE cov: 26 ft: 26 corp: 4/18b lim: 13 exec/s: 0 rss: 35Mb L: 8/8 MS: 4 CrossOver-ShuffleBytes-CopyPart-EraseBytes-
#214256\tDONE   cov: 26 ft: 26 corp: 4/18b lim: 2136 exec/s: 71418 rss: 56Mb
Done 214256 runs in 3 second(s)
stat::number_of_executed_units: 214256
stat::average_exec_per_sec:     71418
stat::new_units_added:          4
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              56
";

    #[test]
    fn parses_libfuzzer_final_stats_and_last_status() {
        assert_eq!(
            Stats::parse(LOG),
            Stats {
                runs: 214_256,
                exec_per_sec: 71_418,
                cov: 26,
                ft: 26,
            }
        );
        assert_eq!(Stats::parse("no fuzzer here"), Stats::default());
    }

    /// The `[[bin]]` names of a fuzz crate's manifest.
    fn bins(manifest: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut in_bin = false;
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_bin = line == "[[bin]]";
            } else if in_bin && let Some(v) = line.strip_prefix("name = ") {
                names.push(v.trim_matches('"').to_string());
            }
        }
        names
    }

    #[test]
    fn table_matches_the_fuzz_crates() {
        let mut crates: Vec<&str> = TARGETS.iter().map(|t| t.krate).collect();
        crates.dedup();
        assert_eq!(crates.len(), 5, "targets grouped by crate: {crates:?}");
        for krate in crates {
            let manifest = toolchain::repo_root().join(krate).join("fuzz/Cargo.toml");
            let text = std::fs::read_to_string(&manifest).unwrap();
            assert!(
                text.contains("\n[workspace]"),
                "{krate}/fuzz must stay out of the workspace"
            );
            let mut declared = bins(&text);
            declared.sort();
            let mut listed: Vec<String> = TARGETS
                .iter()
                .filter(|t| t.krate == krate)
                .map(|t| t.name.to_string())
                .collect();
            listed.sort();
            assert_eq!(declared, listed, "{}", manifest.display());
        }
    }

    #[test]
    fn every_target_has_seeds_and_a_regression_folder() {
        for t in TARGETS {
            assert!(count_files(&t.seeds()) > 0, "no seeds for {}", t.name);
            t.regressions().unwrap();
        }
    }

    #[test]
    fn missing_regression_folder_is_an_error() {
        let t = t("x", "no-such-crate", "");
        assert!(t.regressions().unwrap_err().contains("no-such-crate"));
        assert!(find("nope").is_err());
        assert_eq!(find("sse").unwrap().krate, "ioto-transport");
    }
}
