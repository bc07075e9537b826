//! `ioto-host agent` survives a crash: every record whose push into the flash outbox
//! returned (the service's `pushed <kind> <fnv1a-64>` journal on stdout) reaches a
//! real subscriber at least once and in order per topic, although the service is
//! SIGKILLed and the broker restarted in between.
//!
//! Peers: mosquitto (persistence on, so what it queued for the subscriber survives
//! its restart) and the project's paho subscriber (`tests/paho_sub.py --persistent`,
//! a persistent session that resumes after the restart). The timeline:
//!
//! 1. mosquitto, the subscriber (`ioto/#`, `$aws/things/#`, QoS 1), the service (run 1);
//! 2. after ~2.5 s mosquitto is stopped (SIGTERM); run 1 keeps queueing records it
//!    cannot send; 1 s later run 1 is SIGKILLed;
//! 3. mosquitto again (same port, same database), the service again on the same flash
//!    image (run 2, `duration_s` 3: it stops by itself and drains);
//! 4. the subscriber until it is quiet.
//!
//! Checks: per topic, the journal of both runs is a subsequence of what arrived
//! (each acknowledged record at least once, first arrivals in push order, duplicates
//! allowed); run 1 journaled records while the broker was down, and they arrived
//! only once run 2 was running; no record was evicted from the outbox.
//!
//! Needs `mosquitto` and the project's Python with paho-mqtt (`$IOTO_PYTHON`, else
//! `<workspace>/.venv/bin/python3`); a missing one fails the test (run
//! `cargo xtask doctor --install`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use common::mqtt::{Mosquitto, Msg, PahoSub, python_with_paho};
use common::{Line, Proc, unique_dir};

const DEVICE: &str = "crash-dev";
const FILTERS: [&str; 2] = ["ioto/#", "$aws/things/#"];

/// FNV-1a, 64 bits (the journal's hash), as specified by Fowler, Noll and Vo.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[test]
fn fnv1a64_matches_the_reference_vectors() {
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
}

/// A record the service acknowledged: which run, when the test read the line, its
/// topic and hash.
#[derive(Clone, Debug)]
struct Journaled {
    run: u8,
    at: Instant,
    topic: String,
    hash: u64,
}

/// The topic of a record kind (`ioto_core::agent::records`: 1 telemetry, 2 event,
/// 3 state, 4 metrics, 5 advice), with the AWS shadow prefix.
fn topic_of(kind: u8) -> Option<String> {
    Some(match kind {
        1 => format!("ioto/{DEVICE}/telemetry"),
        2 => format!("ioto/{DEVICE}/events"),
        3 => format!("$aws/things/{DEVICE}/shadow/update"),
        4 => format!("ioto/{DEVICE}/metrics"),
        5 => format!("ioto/{DEVICE}/advice"),
        _ => return None,
    })
}

/// Parses the service's stdout: `pushed` lines into the journal, `evicted` lines
/// and anything unexpected into `failures`.
fn read_journal(run: u8, lines: &[Line], failures: &mut Vec<String>) -> Vec<Journaled> {
    let mut out = Vec::new();
    for (at, line) in lines {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts[..] {
            ["pushed", kind, hash] => {
                let topic = kind.parse().ok().and_then(topic_of);
                let hash = u64::from_str_radix(hash, 16)
                    .ok()
                    .filter(|_| hash.len() == 16);
                match (topic, hash) {
                    (Some(topic), Some(hash)) => out.push(Journaled {
                        run,
                        at: *at,
                        topic,
                        hash,
                    }),
                    _ => failures.push(format!("run {run}: bad journal line {line:?}")),
                }
            }
            ["evicted", ..] => failures.push(format!(
                "run {run}: the outbox evicted a record ({line}); it is sized not to fill"
            )),
            _ => failures.push(format!("run {run}: unexpected stdout line {line:?}")),
        }
    }
    out
}

/// One message the subscriber received, and when the test read it.
struct Arrival {
    at: Instant,
    topic: String,
    hash: u64,
}

/// What the subscriber printed.
#[derive(Default)]
struct Subscriber {
    arrivals: Vec<Arrival>,
    /// Its other lines (`granted`, `subscribed`, `disconnected`, `resumed`...).
    log: Vec<String>,
}

impl Subscriber {
    fn handle(&mut self, (at, line): Line, failures: &mut Vec<String>) {
        if let Some(m) = Msg::parse(&line) {
            self.arrivals.push(Arrival {
                at,
                topic: m.topic,
                hash: fnv1a64(&m.payload),
            });
        } else {
            if line.starts_with("error ") || line.starts_with("refused ") {
                failures.push(format!("subscriber: {line}"));
            }
            self.log.push(line);
        }
    }

    fn said(&self, what: &str) -> bool {
        self.log.iter().any(|l| l == what)
    }
}

fn write_config(dir: &Path, name: &str, port: u16, duration_s: Option<f64>) -> PathBuf {
    let mut cfg = serde_json::json!({
        "device": DEVICE,
        "broker": format!("mqtt://127.0.0.1:{port}"),
        "flash": dir.join("flash.img"),
        "flash_bytes": 262_144,
        "seed": 3,
        "speedup": 30.0,
        "telemetry_every_s": 3,
        "shadow_prefix": "$aws/things",
    });
    if let Some(d) = duration_s {
        cfg["duration_s"] = serde_json::json!(d);
    }
    let path = dir.join(name);
    std::fs::write(&path, cfg.to_string()).unwrap();
    path
}

fn start_agent(config: &Path) -> (Proc, Receiver<Line>, std::thread::JoinHandle<String>) {
    let mut p = Proc::spawn(
        "agent service",
        Command::new(env!("CARGO_BIN_EXE_ioto-host"))
            .arg("agent")
            .arg("--config")
            .arg(config),
    );
    let lines = p.lines();
    let err = p.stderr();
    (p, lines, err)
}

#[test]
fn every_acknowledged_record_arrives_across_a_kill_and_a_broker_restart() {
    let python = python_with_paho();
    let dir = unique_dir("agent_crash");
    let mut broker = Mosquitto::start(&dir, true);
    let port = broker.port;
    let mut failures: Vec<String> = Vec::new();

    // The subscriber, with a persistent session.
    let sub = PahoSub::start(
        &python,
        &["--client-id", "agent-crash-sub", "--persistent"],
        port,
        &FILTERS,
    );
    let mut seen = Subscriber::default();
    sub.until_subscribed(|line| seen.handle(line, &mut failures));

    // Run 1: runs until killed.
    let config1 = write_config(&dir, "run1.json", port, None);
    let (mut run1, run1_lines, run1_err) = start_agent(&config1);
    std::thread::sleep(Duration::from_millis(2500));
    if let Some(status) = run1.child.try_wait().unwrap() {
        let err = run1_err.join().unwrap_or_default();
        panic!("run 1 exited early ({status}):\n{err}");
    }
    // The broker goes away: run 1 queues what it cannot send.
    broker.stop();
    let broker_down = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    run1.child.kill().unwrap(); // SIGKILL
    let killed = run1.wait_exit(Duration::from_secs(5));
    assert!(!killed.success(), "run 1 was killed, yet: {killed}");
    let run1_stderr = run1_err.join().unwrap_or_default();
    let run1_out: Vec<Line> = run1_lines.iter().collect(); // ends at EOF
    let journal1 = read_journal(1, &run1_out, &mut failures);

    // The broker again, then run 2 on the same flash image; it stops by itself.
    broker.launch();
    let run2_start = Instant::now();
    let config2 = write_config(&dir, "run2.json", port, Some(3.0));
    let (mut run2, run2_lines, run2_err) = start_agent(&config2);
    let status = run2.wait_exit(Duration::from_secs(20));
    let run2_stderr = run2_err.join().unwrap_or_default();
    let run2_out: Vec<Line> = run2_lines.iter().collect();
    if !status.success() {
        failures.push(format!("run 2 exited with {status}"));
    }
    let journal2 = read_journal(2, &run2_out, &mut failures);

    // The subscriber until it has been quiet for 1.5 s.
    sub.until_quiet(Duration::from_millis(1500), |line| {
        seen.handle(line, &mut failures)
    });
    if let Some(problem) = sub.finish(|line| seen.handle(line, &mut failures)) {
        failures.push(problem);
    }
    if !seen.said("resumed") {
        failures.push("the subscriber never resumed its session after the restart".into());
    }

    // (1) Per topic, the journal (run 1 then run 2) is a subsequence of the arrivals:
    // each acknowledged record arrived at least once, the first arrivals in push
    // order; duplicates (re-sends) and unjournaled records (pushed, then killed
    // before the journal line) may come in between.
    let journal: Vec<&Journaled> = journal1.iter().chain(&journal2).collect();
    let mut by_topic: BTreeMap<&str, Vec<&Arrival>> = BTreeMap::new();
    for a in &seen.arrivals {
        by_topic.entry(&a.topic).or_default().push(a);
    }
    let mut cursor: BTreeMap<&str, usize> = BTreeMap::new();
    let mut matched: Vec<Option<Instant>> = Vec::new();
    for (i, j) in journal.iter().enumerate() {
        let seen = by_topic
            .get(j.topic.as_str())
            .map_or(&[][..], Vec::as_slice);
        let from = cursor.entry(&j.topic).or_default();
        match seen[*from..].iter().position(|a| a.hash == j.hash) {
            Some(k) => {
                matched.push(Some(seen[*from + k].at));
                *from += k + 1;
            }
            None => {
                matched.push(None);
                let anywhere = seen.iter().any(|a| a.hash == j.hash);
                failures.push(format!(
                    "journal entry {i} (run {}, {} {:016x}) {}",
                    j.run,
                    j.topic,
                    j.hash,
                    if anywhere {
                        "arrived, but not after its predecessors on the topic"
                    } else {
                        "never arrived"
                    }
                ));
            }
        }
    }

    // (2) Run 1 queued records while the broker was down (read well after it had
    // exited); only run 2 can have delivered them.
    let margin = Duration::from_millis(300);
    let stranded: Vec<usize> = (0..journal1.len())
        .filter(|&i| journal1[i].at > broker_down + margin)
        .collect();
    if stranded.is_empty() {
        failures.push("run 1 journaled nothing while the broker was down".into());
    }
    for &i in &stranded {
        if let Some(at) = matched[i]
            && at < run2_start
        {
            failures.push(format!(
                "journal entry {i} (run 1, pushed while the broker was down) arrived before run 2 started"
            ));
        }
    }
    if journal2.is_empty() {
        failures.push("run 2 journaled nothing".into());
    }
    for t in ["telemetry", "metrics"] {
        let topic = format!("ioto/{DEVICE}/{t}");
        if !journal.iter().any(|j| j.topic == topic) {
            failures.push(format!("no {t} record was journaled"));
        }
    }

    let counts = format!(
        "journal: run 1 {} record(s) ({} while the broker was down), run 2 {}; {} arrival(s)",
        journal1.len(),
        stranded.len(),
        journal2.len(),
        seen.arrivals.len()
    );
    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n  {}\n{counts}\nrun 1 stderr:\n{run1_stderr}\nrun 2 stderr:\n{run2_stderr}\n\
         subscriber's other lines: {:?}\nkept: {}",
        failures.len(),
        failures.join("\n  "),
        seen.log,
        dir.display()
    );
    eprintln!("{counts}");
}
