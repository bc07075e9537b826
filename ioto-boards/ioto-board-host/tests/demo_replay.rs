//! `--record` then `--replay`: the agent fed a recording of the simulated machine
//! decides exactly as it did live (same windows, same decisions, same events) — the
//! replay path is the same agent, not a second implementation.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::demo::{ESCALATING_RUN, run_demo};
use serde_json::Value;

#[test]
fn a_replayed_recording_gives_the_live_run_s_decisions() {
    let dir = std::env::temp_dir().join(format!("ioto-demo-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rec = dir.join("machine.csv");
    let rec_s = rec.to_str().unwrap();
    let live = run_demo(
        &[&ESCALATING_RUN[..], &["--record", rec_s]].concat(),
        &dir.join("live"),
    );
    let header = std::fs::read_to_string(&rec).unwrap();
    assert!(header.starts_with("x_g,y_g,z_g\n"));
    let replay = run_demo(
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
