//! The demo escalating to a real OpenAI-compatible peer (llmock from PyPI): the
//! model's scripted tool call comes back into the device through the same checks as
//! any tool call, is applied, and the request llmock received carries the device's
//! context and its four tools.
//!
//! Needs the project's Python (`$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3`
//! with llmock); a missing one fails the test (run `cargo xtask doctor --install`).
#![allow(clippy::unwrap_used, clippy::panic)]

mod llmock_common;

use llmock_common::python;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// llmock on an ephemeral loopback port, killed on drop.
struct Llmock {
    child: Child,
    port: u16,
}

impl Drop for Llmock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Llmock {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python())
            .args([
                "-c",
                "import sys; from llmock.cli import app; sys.argv[0] = 'llmock'; sys.exit(app())",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--latency-ms",
                "0",
                "--response-style",
                "hello",
                "--tool-mode",
                "auto",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start llmock");
        let mut me = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = me.child.try_wait().unwrap() {
                panic!("llmock exited early with {status}");
            }
            assert!(Instant::now() < deadline, "llmock did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        me
    }

    /// One HTTP/1.1 request to llmock's control API (GET without a body).
    fn control(&self, path: &str, body: Option<&Value>) -> Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let method = if body.is_empty() { "GET" } else { "POST" };
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 2"), "{path}: {head}");
        // llmock answers with Content-Length (no chunking) for its control API.
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }
}

#[test]
fn the_model_s_tool_call_is_applied_and_the_request_carries_context_and_tools() {
    let llm = Llmock::start();
    llm.control(
        "/_llmock/scenario",
        Some(&json!({"behaviors": [{
            "type": "reply", "times": 20,
            "text": "{\"severity\":\"warning\",\"summary\":\"Radial vibration is rising; watch it.\"}",
            "tool_calls": [{"name": "set_sensitivity", "arguments": {"level": 1.5}}]
        }]})),
    );
    let out = std::env::temp_dir().join(format!("ioto-demo-llmock-{}", std::process::id()));
    // Seed 6 escalates (a loose mount at 710 s of machine time).
    let status = Command::new(env!("CARGO_BIN_EXE_ioto-host"))
        .args([
            "demo",
            "--seed",
            "6",
            "--duration",
            "4",
            "--speedup",
            "300",
            "--quiet",
        ])
        .args([
            "--ai-endpoint",
            &format!("http://127.0.0.1:{}/v1", llm.port),
        ])
        .arg("--out")
        .arg(&out)
        .env_remove("OPENAI_API_KEY")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let n = |k: &str| {
        summary[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {summary}"))
    };
    assert!(n("escalations") >= 1, "{summary}");
    assert_eq!(n("escalations_waiting"), 0, "{summary}");
    // Each answer's one command passed the device's limits and was applied.
    assert!(n("commands_applied") >= n("escalations"), "{summary}");
    assert_eq!(n("commands_rejected"), 0, "{summary}");
    let advice = summary["delivered_by_topic"]["ioto/demo-machine/advice"]
        .as_u64()
        .unwrap();
    assert_eq!(advice, n("escalations"), "{summary}");

    let requests = llm.control("/_llmock/requests", None)["requests"]
        .as_array()
        .unwrap()
        .clone();
    let chat: Vec<&Value> = requests
        .iter()
        .filter(|r| r.to_string().contains("chat/completions"))
        .collect();
    assert_eq!(chat.len() as u64, n("escalations"), "{requests:?}");
    let body = chat[0].get("body").unwrap_or(chat[0]);
    let text = body.to_string();
    for tool in [
        "set_sensitivity",
        "set_actuator",
        "schedule_report",
        "read_sensor",
    ] {
        assert!(text.contains(tool), "{tool} missing: {text}");
    }
    assert!(
        text.contains("demo-machine") && text.contains("x_rms"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
