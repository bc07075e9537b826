//! The `ioto-ml` command-line tool (built with `--features cli`).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::process::Command;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ioto-ml"))
}

fn model_path(name: &str) -> String {
    common::golden_dir()
        .join(name)
        .join("model.tflite")
        .display()
        .to_string()
}

#[test]
fn run_matches_the_golden_output() {
    let dir = std::env::temp_dir().join(format!("ioto-ml-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inputs = common::read("kws_ref_model", "input.bin");
    let outputs = common::read("kws_ref_model", "output.bin");
    let (i, o) = (dir.join("in.bin"), dir.join("out.bin"));
    std::fs::write(&i, &inputs[..490]).unwrap();
    let st = cli()
        .args(["run", &model_path("kws_ref_model"), "--input"])
        .arg(&i)
        .arg("--output")
        .arg(&o)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(std::fs::read(&o).unwrap(), &outputs[..12]);
    // One byte short: clear error, non-zero exit.
    std::fs::write(&i, &inputs[..489]).unwrap();
    let out = cli()
        .args(["run", &model_path("kws_ref_model"), "--input"])
        .arg(&i)
        .arg("--output")
        .arg(&o)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("input size mismatch") && err.contains("489"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspect_lists_ops_and_arena() {
    let out = cli()
        .args(["inspect", &model_path("kws_ref_model")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DEPTHWISE_CONV_2D") && text.contains("SOFTMAX"),
        "{text}"
    );
    assert!(text.contains("macs=2656768"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("arena_bytes=")),
        "{text}"
    );
}

#[test]
fn bench_ends_with_median_line() {
    let out = cli()
        .args(["bench", &model_path("hello_world_int8"), "--runs", "5"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap();
    let value = last
        .strip_prefix("median_us=")
        .unwrap_or_else(|| panic!("last line {last:?}"));
    assert!(value.parse::<f64>().unwrap() >= 0.0);
}

#[test]
fn bad_model_and_usage_fail() {
    let out = cli()
        .args(["inspect", "/nonexistent.tflite"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = cli().output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}
