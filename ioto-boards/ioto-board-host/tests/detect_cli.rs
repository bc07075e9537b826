//! `ioto-host detect` as a user runs it: output layout, every detector, and errors that
//! name the line with a non-zero exit.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn ioto_host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ioto-host"))
        .args(args)
        .output()
        .unwrap()
}

/// Writes `text` to a fresh file in the test's own temporary folder.
fn csv(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ioto-host-detect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn series(rows: usize) -> String {
    let mut s = String::from("timestamp,value\n");
    for i in 0..rows {
        let (h, m) = (i / 12, (i % 12) * 5);
        let v = if i == rows - 1 { 500.0 } else { (i % 2) as f32 };
        s += &format!("2014-04-{:02} {:02}:{:02}:00,{v}\n", 1 + h / 24, h % 24, m);
    }
    s
}

fn ad01() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../ioto-ml/tests/golden/ad01_int8/model.tflite");
    assert!(root.exists(), "{} missing", root.display());
    root.display().to_string()
}

#[test]
fn every_detector_scores_every_row() {
    let input = series(1_000);
    let file = csv("ok.csv", &input);
    let model = ad01();
    for (det, extra) in [
        ("robust-z", None),
        ("contextual", None),
        ("model", Some(model.as_str())),
    ] {
        let mut args = vec!["detect", "--csv", file.to_str().unwrap(), "--detector", det];
        if let Some(m) = extra {
            args.extend(["--model", m]);
        }
        let out = ioto_host(&args);
        assert!(
            out.status.success(),
            "{det}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("timestamp,value,anomaly_score"));
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 1_000, "{det}");
        for (row, orig) in rows.iter().zip(input.lines().skip(1)) {
            let (prefix, score) = row.rsplit_once(',').unwrap();
            assert_eq!(prefix, orig, "{det}: timestamp and value echoed as written");
            let s: f32 = score.parse().unwrap();
            assert!((0.0..=1.0).contains(&s), "{det}: {row}");
        }
        if det != "model" {
            // the last value is a wild record: both value-watching detectors flag it
            let last: f32 = rows[999].rsplit(',').next().unwrap().parse().unwrap();
            assert!(last >= 0.5, "{det}: {last}");
        }
    }
}

#[test]
fn default_detector_and_other_column() {
    let file = csv(
        "col.csv",
        "timestamp,cpu,mem\n2014-04-01 00:00:00,1,2\n2014-04-01 00:05:00,1.5,2\n",
    );
    let out = ioto_host(&["detect", "--csv", file.to_str().unwrap(), "--column", "cpu"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "timestamp,value,anomaly_score\n2014-04-01 00:00:00,1,0\n2014-04-01 00:05:00,1.5,0\n"
    );
}

#[test]
fn bad_input_names_the_line_and_fails() {
    let cases = [
        (
            "nan.csv",
            "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,oops\n",
            "line 3: `oops` in column `value` is not a number",
        ),
        (
            "short.csv",
            "timestamp,value\n2014-04-01 00:00:00\n",
            "line 2: too few fields",
        ),
        (
            "col.csv",
            "timestamp,reading\n",
            "line 1: no column `value`",
        ),
        (
            "ts.csv",
            "timestamp,value\nlater,1\n",
            "line 2: timestamp `later`",
        ),
    ];
    for (name, text, want) in cases {
        let file = csv(name, text);
        let out = ioto_host(&["detect", "--csv", file.to_str().unwrap()]);
        assert!(!out.status.success(), "{name} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{name}: {err}");
    }
    for args in [
        vec!["detect"],
        vec!["detect", "--csv", "/nonexistent/x.csv"],
        vec!["detect", "--csv", "x.csv", "--detector", "magic"],
        vec!["detect", "--csv", "x.csv", "--detector", "model"],
        vec!["frobnicate"],
    ] {
        let out = ioto_host(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(!out.stderr.is_empty());
    }
}
