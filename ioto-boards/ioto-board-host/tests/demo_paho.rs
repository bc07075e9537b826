//! `ioto-host demo` (what `cargo xtask demo` runs) checked by an independent MQTT
//! peer: a paho-mqtt subscriber (`tests/paho_sub.py`, MQTT 3.1.1, QoS 1 on `ioto/#`,
//! and `$aws/things/#` where the broker allows `$` topics) on the demo's embedded
//! broker must see exactly what the
//! demo's `summary.json` says was delivered, topic by topic and byte for byte. A
//! second run does the same with the agent on mosquitto (`--broker`), which tells a
//! broker problem from an agent or harness problem.
//!
//! Needs the project's Python (`$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3`
//! with paho-mqtt) and `mosquitto` on PATH; a missing one fails the test (run
//! `cargo xtask doctor --install`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::demo::read_summary;
use common::mqtt::{Mosquitto, Msg, PahoSub, b64_decode, python_with_paho};
use common::{Line, Proc, recv_line, unique_dir};
use serde_json::Value;

/// The subscriber's filters on mosquitto (MQTT 3.1.1 wildcards; `#` does not match
/// `$` topics, hence the second one for the AWS IoT shadow topic).
const FILTERS: [&str; 2] = ["ioto/#", "$aws/things/#"];
/// On the embedded rumqttd, which refuses `$` filters: the demo puts the shadow
/// under `ioto/things/<thing>/shadow/...` there.
const EMBEDDED_FILTERS: [&str; 1] = ["ioto/#"];
const DEVICE: &str = "demo-machine";
const SEED: &str = "1";
const DURATION_S: &str = "8";

#[test]
fn b64_decode_matches_rfc4648_vectors() {
    // RFC 4648 §10 test vectors.
    for (plain, enc) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(b64_decode(enc), plain.as_bytes(), "{enc}");
    }
}

/// The demo's default: its embedded rumqttd broker.
#[test]
fn paho_subscriber_sees_exactly_what_the_demo_says_it_delivered() {
    check_demo_against_paho(None);
}

/// The same run and checks with the agent talking to mosquitto (`--broker`): the
/// subscriber, the agent's counters and this harness agree there too.
#[test]
fn paho_subscriber_agrees_with_the_demo_through_mosquitto() {
    let broker = Mosquitto::start(&unique_dir("demo_paho-mosquitto"), false);
    check_demo_against_paho(Some(broker.port));
}

/// Runs the demo (embedded broker, or `external` on 127.0.0.1) with a paho
/// subscriber and checks what it saw against `summary.json` and the report.
fn check_demo_against_paho(external: Option<u16>) {
    let python = python_with_paho();
    let out_dir = unique_dir("demo_paho");

    // 1. The demo, waiting on stdin once its broker is up.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ioto-host"));
    cmd.args(["demo", "--duration", DURATION_S, "--seed", SEED])
        .args(["--quiet", "--start-on-stdin", "--out"])
        .arg(&out_dir);
    if let Some(port) = external {
        cmd.args(["--broker", &format!("mqtt://127.0.0.1:{port}")]);
    }
    let mut demo = Proc::spawn("demo", &mut cmd);
    let demo_lines = demo.lines();
    let demo_err = demo.stderr();
    let (_, first) = recv_line(&demo_lines, Duration::from_secs(20), "demo's first line");
    let port: u16 = first
        .strip_prefix("broker listening on mqtt://127.0.0.1:")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line from the demo: {first:?}"));

    // 2. The subscriber; the demo starts once it has its SUBACKs.
    let filters = if external.is_some() {
        &FILTERS[..]
    } else {
        &EMBEDDED_FILTERS[..]
    };
    let sub = PahoSub::start(&python, &[], port, filters);
    let mut failures: Vec<String> = Vec::new();
    let mut seen: Vec<Msg> = Vec::new();
    let mut sub_other: Vec<String> = Vec::new();
    let mut sub_log = String::new();
    let mut handle = |(_, line): Line| {
        sub_log.push_str(&line);
        sub_log.push('\n');
        if let Some(m) = Msg::parse(&line) {
            seen.push(m);
        } else if let Some(f) = line.strip_prefix("refused ") {
            failures.push(format!("the broker refused the subscription {f}"));
        } else if line.starts_with("error ") {
            // Includes a reconnect after `subscribed` (clean session: messages lost).
            failures.push(format!("subscriber: {line}"));
        } else {
            // `granted ...`; `disconnected ...` is expected once the demo exits when
            // the broker lives in the demo's process; a drop during the run shows up
            // as missing messages below.
            sub_other.push(line);
        }
    };
    sub.until_subscribed(&mut handle);
    let mut demo_stdin = demo.stdin();
    demo_stdin.write_all(b"go\n").unwrap();
    drop(demo_stdin);

    // 3. The run; then the subscriber until it has been quiet for 1 s.
    let status = demo.wait_exit(Duration::from_secs(120));
    let demo_stdout: Vec<String> = demo_lines.try_iter().map(|(_, l)| l).collect();
    let demo_stderr = demo_err.join().unwrap_or_default();
    assert!(
        status.success(),
        "demo failed ({status}):\nstdout:\n{}\nstderr:\n{demo_stderr}",
        demo_stdout.join("\n")
    );
    sub.until_quiet(Duration::from_secs(1), &mut handle);
    if let Some(problem) = sub.finish(handle) {
        failures.push(problem);
    }

    // 4. The checks, all of them, so one run shows every discrepancy.
    let summary = read_summary(&out_dir);
    let by_topic = summary["delivered_by_topic"]
        .as_object()
        .expect("summary.json has delivered_by_topic");
    let claimed: BTreeMap<String, u64> = by_topic
        .iter()
        .map(|(t, n)| (t.clone(), n.as_u64().expect("count")))
        .collect();
    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    for m in &seen {
        *got.entry(m.topic.clone()).or_default() += 1;
    }
    let redeliveries = seen.iter().filter(|m| m.dup).count();
    if redeliveries > 0 {
        failures.push(format!(
            "{redeliveries} message(s) arrived with DUP set: this run was not clean"
        ));
    }

    // (1) Per topic, exactly the delivered count: the agent counts a message once the
    // broker acknowledged it, and in this clean local run (no disconnects, no ack
    // timeouts) nothing is sent twice, so the subscriber may see neither more nor less.
    let topics: std::collections::BTreeSet<&String> = claimed.keys().chain(got.keys()).collect();
    for t in topics {
        let (c, g) = (
            claimed.get(t).copied().unwrap_or(0),
            got.get(t).copied().unwrap_or(0),
        );
        if c != g {
            failures.push(format!(
                "topic {t}: summary.json says {c} delivered, the subscriber saw {g}"
            ));
        }
    }
    let delivered = summary["delivered"].as_u64().expect("delivered");
    if delivered != claimed.values().sum::<u64>() {
        failures.push(format!(
            "summary.json: delivered {delivered} != sum of delivered_by_topic {claimed:?}"
        ));
    }

    // (2) Telemetry, events and the reported state each came through.
    let telemetry = format!("ioto/{DEVICE}/telemetry");
    let events = format!("ioto/{DEVICE}/events");
    let state = if external.is_some() {
        format!("$aws/things/{DEVICE}/shadow/update")
    } else {
        format!("ioto/things/{DEVICE}/shadow/update")
    };
    for t in [&telemetry, &events, &state] {
        if got.get(t).copied().unwrap_or(0) == 0 {
            failures.push(format!("the subscriber saw no message on {t}"));
        }
    }

    // (3) Every payload is JSON; events and telemetry carry their fields.
    for m in &seen {
        let text = String::from_utf8_lossy(&m.payload);
        let v: Value = match serde_json::from_slice(&m.payload) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{}: payload is not JSON ({e}): {text}", m.topic));
                continue;
            }
        };
        let need: &[&str] = if m.topic == events {
            &["action", "reason"]
        } else if m.topic == telemetry {
            &["score", "x_rms", "z_std"]
        } else {
            &[]
        };
        for key in need {
            if v.get(key).is_none() {
                failures.push(format!("{}: payload lacks `{key}`: {text}", m.topic));
            }
        }
    }

    // (4) Bytes: the agent counts topic + payload of every delivered message.
    let sent_bytes = summary["sent_bytes"].as_u64().expect("sent_bytes");
    let raw_bytes = summary["raw_bytes"].as_u64().expect("raw_bytes");
    let seen_bytes: u64 = seen
        .iter()
        .map(|m| (m.topic.len() + m.payload.len()) as u64)
        .sum();
    if seen_bytes != sent_bytes {
        failures.push(format!(
            "topic + payload bytes seen {seen_bytes} != summary.json sent_bytes {sent_bytes}"
        ));
    }
    // (5) The point of the agent: far less goes up than the sensor produced.
    if sent_bytes >= raw_bytes {
        failures.push(format!("sent_bytes {sent_bytes} >= raw_bytes {raw_bytes}"));
    }
    // (6) The report exists and has its chart.
    let report = out_dir.join("report.html");
    match std::fs::read_to_string(&report) {
        Ok(html) if html.contains("<svg") => {}
        Ok(_) => failures.push(format!("{} has no <svg", report.display())),
        Err(e) => failures.push(format!("{}: {e}", report.display())),
    }

    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&out_dir);
    } else {
        let _ = std::fs::write(out_dir.join("subscriber.log"), &sub_log);
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n  {}\nsubscriber saw {got:?}\nsummary.json: {summary}\n\
         subscriber's other lines: {sub_other:?}\noutput kept in {}",
        failures.len(),
        failures.join("\n  "),
        out_dir.display()
    );
}

/// `--ha-discovery`: the retained Home Assistant discovery documents on the broker
/// (read back by mosquitto's own `mosquitto_sub`) name the demo's telemetry topic, and
/// every value they template is a key of that telemetry.
#[test]
fn home_assistant_discovery_documents_point_at_the_telemetry() {
    let broker = Mosquitto::start(&unique_dir("demo_paho-mosquitto"), false);
    let port = broker.port;
    let out_dir = unique_dir("demo_paho");
    let status = Command::new(env!("CARGO_BIN_EXE_ioto-host"))
        .args([
            "demo",
            "--duration",
            "2",
            "--seed",
            SEED,
            "--quiet",
            "--ha-discovery",
        ])
        .args(["--broker", &format!("mqtt://127.0.0.1:{port}"), "--out"])
        .arg(&out_dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let sub = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-t", "homeassistant/#"])
        .args(["-v", "-W", "2", "-C", "3"])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `mosquitto_sub` ({e}): `cargo xtask doctor --install`")
        });
    let text = String::from_utf8_lossy(&sub.stdout);
    let docs: Vec<(&str, Value)> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(t, p)| (t, serde_json::from_str(p).unwrap()))
        .collect();
    // Anomaly score, RMS vibration, outbox depth: three retained sensor documents.
    assert_eq!(docs.len(), 3, "{text}");
    let telemetry = format!("ioto/{DEVICE}/telemetry");
    let summary = read_summary(&out_dir);
    assert!(summary["delivered_by_topic"][&telemetry].as_u64().unwrap() > 0);
    for (topic, doc) in &docs {
        assert!(
            topic.starts_with(&format!("homeassistant/sensor/{DEVICE}/"))
                && topic.ends_with("/config"),
            "{topic}"
        );
        assert_eq!(
            doc["state_topic"],
            Value::String(telemetry.clone()),
            "{doc}"
        );
        assert_eq!(doc["device"]["identifiers"][0], DEVICE, "{doc}");
        let template = doc["value_template"].as_str().unwrap();
        let key = template
            .trim_start_matches("{{ value_json.")
            .trim_end_matches(" }}");
        assert!(["score", "rms", "queue"].contains(&key), "{template}");
    }
}
