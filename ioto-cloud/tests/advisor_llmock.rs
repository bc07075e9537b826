//! `CloudAdvisor` (ioto-core's `Advisor` port) against a real OpenAI/Anthropic-compatible
//! peer, llmock from PyPI: scripted tool calls become checked `Command`s, off-schema
//! and unknown calls are refused with typed errors, and the request the peer received
//! carries the four device tools exactly as `request_preview` shows them.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

use common::{HostClient, Server, block_on, client, control, requests, script};
use ioto_board_host::platform::{HostClock, HostDelay, StdHttp};
use ioto_cloud::Secret;
use ioto_cloud::advisor::{AdvisorConfig, AdvisorError, CloudAdvisor, SYSTEM_PROMPT, Wire};
use ioto_cloud::client::{Api, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::resilience::BudgetLimits;
use ioto_core::advisor::{Advisor, Severity};
use ioto_core::device::{Command, Rejected, TOOLS};
use serde_json::{Value, json};

const CONTEXT: &str = r#"{"rms":0.91,"crest":4.2,"score":7.3,"state":"alarm"}"#;

fn advisor(c: HostClient, wire: Option<Wire>) -> CloudAdvisor<StdHttp, HostClock, HostDelay> {
    let mut cfg = AdvisorConfig::new("gpt-4o-mini");
    cfg.wire = wire;
    CloudAdvisor::new(c, cfg)
}

fn reply_calling(args: Value, text: Option<&str>, times: u32) -> Value {
    let mut r = json!({"type": "reply", "times": times,
        "tool_calls": [{"name": "set_sensitivity", "arguments": args}]});
    if let Some(t) = text {
        r["text"] = json!(t);
    }
    json!([r])
}

/// Numbers compared by value: `4` in the spec text and `4.0` from the schema are one.
fn numbers_as_f64(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => a.iter().map(numbers_as_f64).collect(),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), numbers_as_f64(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn chat_tool_call_becomes_a_checked_command_and_the_request_carries_the_tools() {
    let s = Server::llmock();
    let mut adv = advisor(client(&s.url("/v1"), Api::OpenAi, "sk-local"), None);
    assert_eq!(adv.wire(), Wire::Chat);
    let decision = r#"{"severity":"warning","summary":"Vibration up; fewer alarms for now."}"#;
    script(&s, reply_calling(json!({"level": 1.5}), Some(decision), 2));
    let advice = block_on(adv.advise(CONTEXT, &TOOLS)).unwrap();
    let cmds: Vec<Command> = advice.commands().copied().collect();
    assert_eq!(cmds, [Command::SetSensitivity { level: 1.5 }]);
    assert_eq!(advice.severity, Severity::Warning);
    assert_eq!(advice.summary(), "Vibration up; fewer alarms for now.");

    // What llmock received: exactly the previewed body, with the four device tools.
    let reqs = requests(&s);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["path"], "/v1/chat/completions");
    let body = &reqs[0]["body"];
    let preview: Value = serde_json::from_str(&adv.request_preview(CONTEXT).unwrap()).unwrap();
    assert_eq!(body, &preview);
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": SYSTEM_PROMPT})
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": CONTEXT})
    );
    let tools = body["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 4);
    for (t, spec) in tools.iter().zip(TOOLS) {
        assert_eq!(t["type"], "function");
        assert_eq!(t["function"]["name"], spec.name);
        assert_eq!(t["function"]["description"], spec.description);
        assert_eq!(t["function"]["strict"], true);
        let want: Value = serde_json::from_str(spec.parameters).unwrap();
        assert_eq!(
            numbers_as_f64(&t["function"]["parameters"]),
            numbers_as_f64(&want)
        );
    }

    // Tokens: what the peer reports for the same request, asked directly.
    let direct = control(s.port, "/v1/chat/completions", Some(&preview));
    let u = &direct["usage"];
    let total = u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap();
    assert!(total > 0);
    assert_eq!(u64::from(advice.tokens), total);
}

#[test]
fn out_of_range_and_unknown_calls_are_refused_with_typed_errors() {
    let s = Server::llmock();
    let mut adv = advisor(client(&s.url("/v1"), Api::OpenAi, "sk-local"), None);
    script(&s, reply_calling(json!({"level": 9}), None, 1));
    match block_on(adv.advise(CONTEXT, &TOOLS)) {
        Err(AdvisorError::RefusedCall { name, why, .. }) => {
            assert_eq!(name, "set_sensitivity");
            assert_eq!(why, Rejected::OutOfRange);
        }
        other => panic!("expected a refused call, got {other:?}"),
    }
    // llmock's own fault: a call to a tool that was never offered.
    script(&s, json!([{"type": "tool_fault", "kind": "unknown_tool"}]));
    match block_on(adv.advise(CONTEXT, &TOOLS)) {
        Err(AdvisorError::RefusedCall { why, name, .. }) => {
            assert_eq!(why, Rejected::UnknownFunction, "{name}");
            assert!(TOOLS.iter().all(|t| t.name != name));
        }
        other => panic!("expected a refused call, got {other:?}"),
    }
    // ... and malformed argument JSON.
    script(
        &s,
        json!([{"type": "tool_fault", "kind": "malformed_arguments"}]),
    );
    assert!(matches!(
        block_on(adv.advise(CONTEXT, &TOOLS)),
        Err(AdvisorError::RefusedCall {
            why: Rejected::BadArguments,
            ..
        })
    ));
    // A plain text answer: no commands, severity Info, the text as summary.
    script(&s, json!([{"type": "reply", "text": "All normal."}]));
    let a = block_on(adv.advise(CONTEXT, &TOOLS)).unwrap();
    assert_eq!(a.commands().count(), 0);
    assert_eq!((a.severity, a.summary()), (Severity::Info, "All normal."));
}

#[test]
fn responses_and_anthropic_wires_give_the_same_command() {
    let s = Server::llmock();
    let mut adv = advisor(
        client(&s.url("/v1"), Api::OpenAi, "sk-local"),
        Some(Wire::Responses),
    );
    script(&s, reply_calling(json!({"level": 1.5}), None, 1));
    let a = block_on(adv.advise(CONTEXT, &TOOLS)).unwrap();
    assert_eq!(
        a.commands().copied().collect::<Vec<_>>(),
        [Command::SetSensitivity { level: 1.5 }]
    );
    let mut adv = advisor(
        client(&s.url("/anthropic"), Api::Anthropic, "sk-ant-local"),
        None,
    );
    assert_eq!(adv.wire(), Wire::Anthropic);
    script(&s, reply_calling(json!({"level": 1.5}), None, 1));
    let a = block_on(adv.advise(CONTEXT, &TOOLS)).unwrap();
    assert_eq!(
        a.commands().copied().collect::<Vec<_>>(),
        [Command::SetSensitivity { level: 1.5 }]
    );
    let reqs = requests(&s);
    let paths: Vec<&str> = reqs.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/v1/responses", "/anthropic/v1/messages"]);
    assert_eq!(reqs[0]["body"]["tools"].as_array().unwrap().len(), 4);
    assert_eq!(reqs[1]["body"]["tools"].as_array().unwrap().len(), 4);
}

#[test]
fn streamed_answers_give_the_same_command_on_every_wire() {
    let s = Server::llmock();
    let decision = r#"{"severity":"warning","summary":"Streamed."}"#;
    for (base, api, key, wire, path) in [
        (
            "/v1",
            Api::OpenAi,
            "sk-local",
            Wire::Chat,
            "/v1/chat/completions",
        ),
        (
            "/v1",
            Api::OpenAi,
            "sk-local",
            Wire::Responses,
            "/v1/responses",
        ),
        (
            "/anthropic",
            Api::Anthropic,
            "sk-ant-local",
            Wire::Anthropic,
            "/anthropic/v1/messages",
        ),
    ] {
        let mut cfg = AdvisorConfig::new("gpt-4o-mini");
        cfg.wire = Some(wire);
        cfg.stream = true;
        let mut adv = CloudAdvisor::new(client(&s.url(base), api, key), cfg);
        script(&s, reply_calling(json!({"level": 1.5}), Some(decision), 1));
        let a = block_on(adv.advise(CONTEXT, &TOOLS)).unwrap();
        assert_eq!(
            a.commands().copied().collect::<Vec<_>>(),
            [Command::SetSensitivity { level: 1.5 }],
            "{wire:?}"
        );
        assert_eq!(a.severity, Severity::Warning, "{wire:?}");
        let reqs = requests(&s);
        let last = reqs.last().unwrap();
        assert_eq!(last["path"], path);
        // The peer was asked for, and so answered with, an event stream.
        assert_eq!(last["body"]["stream"], true, "{wire:?}");
        let preview: Value = serde_json::from_str(&adv.request_preview(CONTEXT).unwrap()).unwrap();
        assert_eq!(last["body"], preview, "{wire:?}");
    }
}

#[test]
fn spent_budget_is_a_typed_error_and_sends_nothing() {
    let s = Server::llmock();
    let mut cfg = ClientConfig::new(
        Endpoint::local(&s.url("/v1")).unwrap(),
        Api::OpenAi,
        Secret::new("sk-local"),
    );
    cfg.budget = BudgetLimits {
        calls_per_hour: 1,
        ..BudgetLimits::default()
    };
    let mut adv = advisor(common::client_with(cfg), None);
    script(&s, json!([{"type": "reply", "text": "ok"}]));
    block_on(adv.advise(CONTEXT, &TOOLS)).unwrap();
    assert_eq!(
        block_on(adv.advise(CONTEXT, &TOOLS)),
        Err(AdvisorError::Budget("calls per hour"))
    );
    assert_eq!(requests(&s).len(), 1);
}
