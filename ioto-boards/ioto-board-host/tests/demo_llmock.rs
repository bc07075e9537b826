//! The demo escalating to a real OpenAI-compatible peer (llmock from PyPI): the
//! model's scripted tool call comes back into the device through the same checks as
//! any tool call, is applied, and the request llmock received carries the device's
//! context and its four tools.
//!
//! Needs the project's Python (`$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3`
//! with llmock); a missing one fails the test (run `cargo xtask doctor --install`).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::demo::{ESCALATING_RUN, run_demo};
use common::llmock::Llmock;
use serde_json::{Value, json};

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
    let endpoint = format!("http://127.0.0.1:{}/v1", llm.port);
    let summary = run_demo(
        &[&ESCALATING_RUN[..], &["--ai-endpoint", &endpoint]].concat(),
        &out,
    );
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
