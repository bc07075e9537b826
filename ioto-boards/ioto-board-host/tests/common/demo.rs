//! `ioto-host demo` run to its end, and its summary.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Seed 6 for 4 s at 300× (20 minutes of machine time): a loose mount at 710 s of
/// machine time, reported and escalated.
pub const ESCALATING_RUN: [&str; 6] = ["--seed", "6", "--duration", "4", "--speedup", "300"];

/// The `summary.json` the demo wrote into `out`.
pub fn read_summary(out: &Path) -> Value {
    let path = out.join("summary.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display()))
}

/// Runs `ioto-host demo <args> --quiet --out <out>` without `OPENAI_API_KEY` (so only
/// `--ai-endpoint` reaches a model); fails unless it succeeds; returns its summary.
pub fn run_demo(args: &[&str], out: &Path) -> Value {
    let status = Command::new(env!("CARGO_BIN_EXE_ioto-host"))
        .arg("demo")
        .args(args)
        .args(["--quiet", "--out"])
        .arg(out)
        .env_remove("OPENAI_API_KEY")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "ioto-host demo {args:?}: {status}");
    read_summary(out)
}
