//! The demo's agent on an `mqtts://` broker: mosquitto's TLS listener with
//! certificates made by the `openssl` CLI (ioto-transport's TLS test helpers). With the
//! right CA every record is acknowledged by the broker; with another CA the agent never
//! connects (the certificate is refused) and nothing is claimed delivered.
#![allow(clippy::unwrap_used, clippy::panic, dead_code, missing_docs)]

#[path = "../../../ioto-transport/tests/tls_common/mod.rs"]
mod tls_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tls_common::{Pki, mosquitto_tls};

fn demo(port: u16, ca: &Path, out: &Path) -> Value {
    let status = Command::new(env!("CARGO_BIN_EXE_ioto-host"))
        .args([
            "demo",
            "--seed",
            "4",
            "--duration",
            "3",
            "--speedup",
            "300",
            "--quiet",
        ])
        .args([
            "--broker",
            &format!("mqtts://localhost:{port}"),
            "--broker-ca",
        ])
        .arg(ca)
        .arg("--out")
        .arg(out)
        .env_remove("OPENAI_API_KEY")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn the_agent_delivers_over_verified_tls_and_refuses_a_foreign_ca() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo_mqtts_pki");
    let pki = Pki::generate(dir.clone());
    let broker = mosquitto_tls(&pki.dir, &pki.good);
    let ca = dir.join("ca-for-demo.pem");
    std::fs::write(&ca, pki.ca.pem()).unwrap();
    let good = demo(broker.port, &ca, &dir.join("good"));
    let delivered = good["delivered"].as_u64().unwrap();
    assert!(delivered >= 5, "{good}");
    assert_eq!(good["queue_left"].as_u64(), Some(0), "{good}");
    assert!(
        good["delivered_by_topic"]["$aws/things/demo-machine/shadow/update"].as_u64() >= Some(1)
    );

    let foreign = dir.join("other-ca.pem");
    std::fs::write(&foreign, pki.other_ca.pem()).unwrap();
    let bad = demo(broker.port, &foreign, &dir.join("bad"));
    assert_eq!(bad["delivered"].as_u64(), Some(0), "{bad}");
    assert!(bad["queue_left"].as_u64().unwrap() > 0, "{bad}");
}
