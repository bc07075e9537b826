//! The `mqtt` host tool (examples/mqtt.rs) against a real mosquitto: pub/sub across a
//! broker restart with a persistent subscriber, timeouts and usage errors.
#![allow(clippy::unwrap_used, clippy::panic)]

mod mqtt_support;
#[cfg(feature = "tls")]
mod tls_common;

use mqtt_support::Broker;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `cargo test` builds the examples next to the test binaries.
fn tool() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let p = dir.join("examples").join("mqtt");
    assert!(
        p.exists(),
        "{} missing: run the tests with `--features std` so the example is built",
        p.display()
    );
    p
}

fn url(port: u16) -> String {
    format!("mqtt://127.0.0.1:{port}")
}

fn pub_sub_across_restart(protocol: &str) {
    let mut broker = Broker::start("");
    let u = url(broker.port);
    let sub_id = format!("tool-sub-{protocol}");
    let sub_args = [
        "--url",
        &u,
        "--protocol",
        protocol,
        "--client-id",
        &sub_id,
        "--persistent",
        "sub",
        "tool/t",
        "--qos",
        "1",
    ];
    // Create the persistent session (subscribe once), then leave.
    let first = Command::new(tool())
        .args(sub_args)
        .args(["--count", "1", "--timeout", "1"])
        .output()
        .unwrap();
    assert!(!first.status.success(), "nothing was published: times out");

    let sub = Command::new(tool())
        .args(sub_args)
        .args(["--count", "300", "--timeout", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut publ = Command::new(tool())
        .args([
            "--url",
            &u,
            "--protocol",
            protocol,
            "--client-id",
            "tool-pub",
            "pub",
            "tool/t",
        ])
        .args(["--qos", "1", "--count", "300", "--interval-ms", "5"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    broker.stop();
    std::thread::sleep(Duration::from_millis(600));
    broker.restart();
    let deadline = Instant::now() + Duration::from_secs(40);
    let pub_status = loop {
        if let Some(s) = publ.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "pub did not finish");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    publ.stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(pub_status.success(), "pub failed: {err}");
    assert!(err.contains("300 published, 300 acknowledged"), "{err}");
    assert!(
        err.contains("disconnected"),
        "the restart was not noticed: {err}"
    );

    let out = sub.wait_with_output().unwrap();
    assert!(out.status.success(), "sub failed");
    let mut got: Vec<u32> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    got.sort_unstable();
    got.dedup();
    // 300 lines were printed; after removing duplicates every number must be there
    // unless duplicates took their place — then the rest come with the next run.
    let missing: Vec<u32> = (0..300).filter(|n| got.binary_search(n).is_err()).collect();
    if !missing.is_empty() {
        let rest = Command::new(tool())
            .args(sub_args)
            .args(["--count", &missing.len().to_string(), "--timeout", "5"])
            .output()
            .unwrap();
        let more: Vec<u32> = String::from_utf8(rest.stdout)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        let still: Vec<u32> = missing
            .iter()
            .copied()
            .filter(|n| !more.contains(n))
            .collect();
        assert!(still.is_empty(), "lost: {still:?}");
    }
}

#[test]
fn pub_sub_across_restart_v5() {
    pub_sub_across_restart("5");
}

#[test]
fn pub_sub_across_restart_v311() {
    pub_sub_across_restart("3.1.1");
}

#[test]
fn usage_errors() {
    let bad = Command::new(tool())
        .args(["--url", "http://x", "pub", "t"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    // mqtts:// needs the CA to verify against; --ca means nothing without TLS.
    let no_ca = Command::new(tool())
        .args(["--url", "mqtts://127.0.0.1:8883", "pub", "t"])
        .output()
        .unwrap();
    assert_eq!(no_ca.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_ca.stderr).contains("needs --ca FILE"));
    let ca_without_tls = Command::new(tool())
        .args([
            "--url",
            "mqtt://127.0.0.1:1883",
            "--ca",
            "ca.pem",
            "pub",
            "t",
        ])
        .output()
        .unwrap();
    assert_eq!(ca_without_tls.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&ca_without_tls.stderr).contains("only to mqtts://"));
    let missing_ca = Command::new(tool())
        .args([
            "--url",
            "mqtts://127.0.0.1:8883",
            "--ca",
            "/nonexistent/ca.pem",
        ])
        .args(["pub", "t"])
        .output()
        .unwrap();
    assert_eq!(missing_ca.status.code(), Some(2));
    let none = Command::new(tool())
        .args(["--url", "mqtt://127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
}

/// A broker without persistence forgets the persistent session on restart: `sub
/// --persistent` notices (session not present) and subscribes again.
#[test]
fn sub_resubscribes_when_the_broker_lost_the_session() {
    let mut broker = Broker::start("persistence false");
    let u = url(broker.port);
    let mut sub = Command::new(tool())
        .args([
            "--url",
            &u,
            "--client-id",
            "resub",
            "--persistent",
            "sub",
            "rs/t",
            "--qos",
            "1",
        ])
        .args(["--count", "2", "--timeout", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let publish = |msg: &str| {
        let ok = Command::new(tool())
            .args(["--url", &u, "pub", "rs/t", "--qos", "1", "--message", msg])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "pub {msg}");
    };
    // Until the subscriber is subscribed, publishes go nowhere; retry until it got one.
    let first_seen = |sub: &mut std::process::Child| sub.try_wait().unwrap().is_some();
    std::thread::sleep(Duration::from_millis(500));
    publish("before");
    broker.stop();
    broker.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !first_seen(&mut sub) {
        assert!(
            Instant::now() < deadline,
            "sub did not get a message after the restart"
        );
        publish("after");
        std::thread::sleep(Duration::from_millis(300));
    }
    let out = sub.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "before\nafter\n");
    let log = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        log.matches("connected (session present: false)").count(),
        2,
        "{log}"
    );
}

/// `mqtts://` through mosquitto's TLS 1.3 listener, verified against the test CA.
#[cfg(feature = "tls")]
mod tls {
    use super::tool;
    use std::path::PathBuf;
    use std::process::{Command, Output};
    use std::sync::OnceLock;

    use crate::tls_common::{Pki, mosquitto_tls};

    fn pki() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(|| {
            Pki::generate(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mqtt_tool_pki"))
        })
    }

    fn run(url: &str, ca: &std::path::Path, protocol: &str, command: &[&str]) -> Output {
        Command::new(tool())
            .args(["--url", url, "--protocol", protocol])
            .arg("--ca")
            .arg(ca)
            .args(command)
            .output()
            .unwrap()
    }

    /// A persistent subscriber registers, QoS 1 publishes are acknowledged and queued for
    /// it, and it receives them all when it comes back — every hop over verified TLS.
    fn pub_sub_over_tls(protocol: &str) {
        let pki = pki();
        let broker = mosquitto_tls(&pki.dir, &pki.good);
        let ca = &pki.ca.cert;
        let url = format!("mqtts://127.0.0.1:{}", broker.port);
        let id = format!("tls-sub-{protocol}");
        let sub = [
            "--client-id",
            &id,
            "--persistent",
            "sub",
            "tls/t",
            "--qos",
            "1",
        ];
        let first = run(
            &url,
            ca,
            protocol,
            &[&sub[..], &["--count", "1", "--timeout", "1"]].concat(),
        );
        let log = String::from_utf8_lossy(&first.stderr);
        assert_eq!(first.status.code(), Some(1), "{log}");
        assert!(log.contains("connected (session present: false)"), "{log}");

        let publ = run(
            &url,
            ca,
            protocol,
            &["pub", "tls/t", "--qos", "1", "--count", "5"],
        );
        let log = String::from_utf8_lossy(&publ.stderr);
        assert!(publ.status.success(), "{log}");
        assert!(
            log.contains("5 published, 5 acknowledged, 0 refused"),
            "{log}"
        );

        let second = run(
            &url,
            ca,
            protocol,
            &[&sub[..], &["--count", "5", "--timeout", "10"]].concat(),
        );
        assert!(
            second.status.success(),
            "{}",
            String::from_utf8_lossy(&second.stderr)
        );
        assert_eq!(String::from_utf8(second.stdout).unwrap(), "0\n1\n2\n3\n4\n");
    }

    #[test]
    fn pub_sub_over_tls_v5() {
        pub_sub_over_tls("5");
    }

    #[test]
    fn pub_sub_over_tls_v311() {
        pub_sub_over_tls("3.1.1");
    }

    #[test]
    fn a_broker_certificate_from_another_ca_fails_with_the_reason() {
        let pki = pki();
        let broker = mosquitto_tls(&pki.dir, &pki.good);
        let url = format!("mqtts://127.0.0.1:{}", broker.port);
        let out = run(
            &url,
            &pki.other_ca.cert,
            "5",
            &["pub", "tls/t", "--qos", "1"],
        );
        let log = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{log}");
        assert!(
            log.contains("TLS: the server certificate is not issued by the configured CA"),
            "{log}"
        );
    }

    #[test]
    fn a_broker_certificate_for_another_host_fails_with_the_reason() {
        let pki = pki();
        let broker = mosquitto_tls(&pki.dir, &pki.other_host);
        let url = format!("mqtts://127.0.0.1:{}", broker.port);
        let out = run(
            &url,
            &pki.ca.cert,
            "3.1.1",
            &["sub", "tls/#", "--timeout", "5"],
        );
        let log = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{log}");
        assert!(
            log.contains("TLS: the server certificate does not match the server name"),
            "{log}"
        );
    }
}
