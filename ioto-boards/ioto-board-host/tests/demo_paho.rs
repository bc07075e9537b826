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

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

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

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3`; fails loudly (never skips)
/// when it is missing or cannot import paho-mqtt.
fn python_with_paho() -> PathBuf {
    let python = std::env::var_os("IOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python3"));
    let ok = Command::new(&python)
        .args(["-c", "import paho.mqtt.client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "Python with paho-mqtt not found: {} cannot import `paho.mqtt.client`. Run \
         `cargo xtask doctor --install` (creates <workspace>/.venv from \
         python/requirements.txt) or set IOTO_PYTHON.",
        python.display()
    );
    python
}

/// A child process killed and reaped on drop (also when a check panics).
struct Proc {
    child: Child,
    what: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn spawn(what: &'static str, cmd: &mut Command) -> Self {
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {what}: {e}"));
        Self { child, what }
    }

    /// Its stdout, one line at a time, on a channel (read by a thread).
    fn lines(&mut self) -> Receiver<String> {
        let out = self.child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    }

    /// Its stderr, collected by a thread until the process closes it.
    fn stderr(&mut self) -> std::thread::JoinHandle<String> {
        let mut err = self.child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        })
    }

    fn stdin(&mut self) -> ChildStdin {
        self.child.stdin.take().unwrap()
    }

    /// Waits at most `limit` for the exit; kills and fails on timeout.
    fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the {} did not exit within {limit:?}; killed", self.what);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Receives one line, failing with `context` after `limit`.
fn recv_line(rx: &Receiver<String>, limit: Duration, context: &str) -> String {
    match rx.recv_timeout(limit) {
        Ok(line) => line,
        Err(RecvTimeoutError::Timeout) => panic!("{context}: nothing within {limit:?}"),
        Err(RecvTimeoutError::Disconnected) => panic!("{context}: the process closed stdout"),
    }
}

/// One message the subscriber received.
struct Seen {
    topic: String,
    payload: Vec<u8>,
    dup: bool,
}

fn parse_msg(json: &str) -> Seen {
    let v: Value = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("subscriber printed bad JSON ({e}): {json}"));
    let topic = v["topic"].as_str().expect("topic").to_string();
    let payload = b64_decode(v["payload_b64"].as_str().expect("payload_b64"));
    Seen {
        topic,
        payload,
        dup: v["dup"].as_bool().unwrap_or(false),
    }
}

/// Standard base64 (RFC 4648, with padding), as Python's `base64.b64encode` writes it.
fn b64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 byte {c:#x} in {s}"),
        }
    };
    let bytes = s.as_bytes();
    assert_eq!(bytes.len() % 4, 0, "base64 length not a multiple of 4: {s}");
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for quad in bytes.chunks(4) {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | val(c);
        }
        n <<= 6 * pad as u32;
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - pad]);
    }
    out
}

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

/// A fresh path under the target's temporary directory.
fn unique_out_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("demo_paho-{}-{n}-{nanos}", std::process::id()))
}

fn read_summary(dir: &Path) -> Value {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display()))
}

/// A mosquitto on a free loopback port (killed on drop); fails loudly if missing.
fn mosquitto() -> (Proc, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let conf = unique_out_dir().with_extension("mosquitto.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
    )
    .unwrap();
    let mut cmd = Command::new("mosquitto");
    cmd.arg("-c").arg(&conf);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start `mosquitto` ({e}): install it (`cargo xtask doctor --install`)")
        });
    let proc = Proc {
        child,
        what: "mosquitto",
    };
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "mosquitto not accepting on port {port} after 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_file(&conf); // read at start-up
    (proc, port)
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
    let (_broker, port) = mosquitto();
    check_demo_against_paho(Some(port));
}

/// Runs the demo (embedded broker, or `external` on 127.0.0.1) with a paho
/// subscriber and checks what it saw against `summary.json` and the report.
fn check_demo_against_paho(external: Option<u16>) {
    let python = python_with_paho();
    let out_dir = unique_out_dir();

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
    let first = recv_line(&demo_lines, Duration::from_secs(20), "demo's first line");
    let port: u16 = first
        .strip_prefix("broker listening on mqtt://127.0.0.1:")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line from the demo: {first:?}"));

    // 2. The subscriber; the demo starts once it has its SUBACKs.
    let mut sub = Proc::spawn(
        "subscriber",
        Command::new(&python)
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/paho_sub.py"))
            .args(["127.0.0.1", &port.to_string()])
            .args(if external.is_some() {
                &FILTERS[..]
            } else {
                &EMBEDDED_FILTERS[..]
            }),
    );
    let sub_lines = sub.lines();
    let sub_err = sub.stderr();
    let mut sub_stdin = Some(sub.stdin());
    let mut failures: Vec<String> = Vec::new();
    let mut seen: Vec<Seen> = Vec::new();
    let mut sub_other: Vec<String> = Vec::new();
    let mut sub_log = String::new();
    let mut handle = |line: String, seen: &mut Vec<Seen>, failures: &mut Vec<String>| {
        sub_log.push_str(&line);
        sub_log.push('\n');
        if let Some(json) = line.strip_prefix("msg ") {
            seen.push(parse_msg(json));
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
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let line = recv_line(
            &sub_lines,
            left,
            "waiting for the subscriber's `subscribed`",
        );
        if line == "subscribed" {
            break;
        }
        handle(line, &mut seen, &mut failures);
    }
    let mut demo_stdin = demo.stdin();
    demo_stdin.write_all(b"go\n").unwrap();
    drop(demo_stdin);

    // 3. The run; then the subscriber until it has been quiet for 1 s.
    let status = demo.wait_exit(Duration::from_secs(120));
    let demo_stdout: Vec<String> = demo_lines.try_iter().collect();
    let demo_stderr = demo_err.join().unwrap_or_default();
    assert!(
        status.success(),
        "demo failed ({status}):\nstdout:\n{}\nstderr:\n{demo_stderr}",
        demo_stdout.join("\n")
    );
    let drain_until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < drain_until {
        match sub_lines.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => handle(line, &mut seen, &mut failures),
            Err(_) => break,
        }
    }
    drop(sub_stdin.take()); // end of file: the subscriber disconnects and exits
    let sub_status = sub.wait_exit(Duration::from_secs(10));
    for line in sub_lines.try_iter() {
        handle(line, &mut seen, &mut failures);
    }
    let sub_stderr = sub_err.join().unwrap_or_default();
    if !sub_status.success() || !sub_stderr.trim().is_empty() {
        failures.push(format!(
            "subscriber exit {sub_status}, stderr:\n{sub_stderr}"
        ));
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
    let (_broker, port) = mosquitto();
    let out_dir = unique_out_dir();
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
