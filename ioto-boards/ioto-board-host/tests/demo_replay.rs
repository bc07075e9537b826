//! `--record` then `--replay`: the agent fed a recording of the simulated machine
//! decides exactly as it did live (same windows, same decisions, same events) — the
//! replay path is the same agent, not a second implementation.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn demo(args: &[&str], out: &Path) -> Value {
    let status = Command::new(env!("CARGO_BIN_EXE_ioto-host"))
        .arg("demo")
        .args(args)
        .args(["--quiet", "--out"])
        .arg(out)
        .env_remove("OPENAI_API_KEY")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "ioto-host demo {args:?}");
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_replayed_recording_gives_the_live_run_s_decisions() {
    let dir = std::env::temp_dir().join(format!("ioto-demo-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rec = dir.join("machine.csv");
    let rec_s = rec.to_str().unwrap();
    // Seed 6: a loose mount at 710 s of machine time, reported and escalated.
    let live = demo(
        &[
            "--seed",
            "6",
            "--duration",
            "4",
            "--speedup",
            "300",
            "--record",
            rec_s,
        ],
        &dir.join("live"),
    );
    let header = std::fs::read_to_string(&rec).unwrap();
    assert!(header.starts_with("x_g,y_g,z_g\n"));
    let replay = demo(
        &["--replay", rec_s, "--duration", "60", "--speedup", "300"],
        &dir.join("replay"),
    );
    for key in [
        "samples",
        "inferences",
        "anomalies",
        "decisions",
        "raw_bytes",
    ] {
        assert_eq!(live[key], replay[key], "{key}: live {live} replay {replay}");
    }
    assert!(live["decisions"][3].as_u64().unwrap() >= 1, "{live}");
    let events = |v: &Value| v["delivered_by_topic"]["ioto/demo-machine/events"].clone();
    assert_eq!(events(&live), events(&replay));
    // The replay knows no faults; the live run knew its one.
    assert_eq!(replay["faults"].as_array().unwrap().len(), 0);
    assert_eq!(live["faults"].as_array().unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
