//! The demo's agent on an `mqtts://` broker: mosquitto's TLS listener with
//! certificates made by the `openssl` CLI (ioto-transport's TLS test helpers). With the
//! right CA every record is acknowledged by the broker; with another CA the agent never
//! connects (the certificate is refused) and nothing is claimed delivered.
#![allow(clippy::unwrap_used, clippy::panic, dead_code, missing_docs)]

mod common;

#[path = "../../../ioto-transport/tests/tls_common/mod.rs"]
mod tls_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::demo::{ESCALATING_RUN, run_demo};
use common::llmock::{Llmock, python};
use serde_json::Value;
use tls_common::{Pki, mosquitto_tls};

fn demo(port: u16, ca: &Path, out: &Path) -> Value {
    let broker = format!("mqtts://localhost:{port}");
    let ca = ca.to_str().unwrap();
    let args = ["--seed", "4", "--duration", "3", "--speedup", "300"];
    run_demo(
        &[&args[..], &["--broker", &broker, "--broker-ca", ca]].concat(),
        out,
    )
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

/// The demo escalating to llmock served over HTTPS (uvicorn's TLS with an
/// openssl-made certificate for `localhost`): the advisor verifies the server with
/// `--ai-ca`, and the model's scripted tool call is applied.
#[test]
fn escalations_reach_an_https_endpoint_verified_against_its_ca() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo_https_pki");
    let pki = Pki::generate(dir.clone());
    let llmock = Llmock::start_tls(&pki.good.cert, &pki.good.key);
    let port = llmock.port;
    // Script a tool call through llmock's control API (Python's own TLS client).
    let script = format!(
        r#"
import json, ssl, time, urllib.request
ctx = ssl.create_default_context(cafile={ca:?})
body = json.dumps({{"behaviors": [{{"type": "reply", "times": 20,
    "tool_calls": [{{"name": "set_sensitivity", "arguments": {{"level": 1.5}}}}]}}]}}).encode()
for _ in range(200):
    try:
        req = urllib.request.Request("https://localhost:{port}/_llmock/scenario", data=body,
            headers={{"Content-Type": "application/json"}})
        urllib.request.urlopen(req, context=ctx).read()
        break
    except OSError:
        time.sleep(0.05)
else:
    raise SystemExit("llmock over TLS did not come up")
"#,
        ca = pki.ca.cert.display().to_string(),
    );
    let scripted = Command::new(python())
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(scripted.success());
    let endpoint = format!("https://localhost:{port}/v1");
    let ca = pki.ca.cert.to_str().unwrap();
    let ai = ["--ai-endpoint", &endpoint, "--ai-ca", ca];
    let summary = run_demo(
        &[&ESCALATING_RUN[..], &ai].concat(),
        &dir.join("https-demo"),
    );
    assert!(summary["escalations"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(
        summary["escalations_waiting"].as_u64(),
        Some(0),
        "{summary}"
    );
    assert!(
        summary["commands_applied"].as_u64() >= summary["escalations"].as_u64(),
        "{summary}"
    );
}
