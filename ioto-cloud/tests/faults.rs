//! Error paths against our own fault server (tests/fault_server.py): 401 with the key
//! echoed, 429 + Retry-After, 500, a stream cut mid-event, invalid JSON, an over-long
//! answer, out-of-schema tool arguments and an unknown tool.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

use common::{Server, block_on, client, client_with};
use ioto_cloud::Error;
use ioto_cloud::chat::{ChatMessage, ChatRequest};
use ioto_cloud::client::{Api, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::resilience::{BudgetLimits, RetryPolicy};
use ioto_cloud::tool_loop::{ExecutedCall, LoopCaps, run_chat};
use ioto_cloud::tools::{CallStatus, ToolError, ToolRegistry};
use ioto_cloud::{Secret, schema::Violation};
use ioto_core::backoff::Backoff;
use serde_json::Value;
use std::cell::Cell;
use std::time::Instant;

const KEY: &str = "sk-test-THIS-KEY-MUST-NOT-LEAK-1234";

fn req() -> ChatRequest {
    ChatRequest::new("fault").message(ChatMessage::User("hello".into()))
}

fn seen(server: &Server, scenario: &str) -> Vec<Value> {
    let v = common::control(server.port, &format!("/_requests/{scenario}"), None);
    v.as_array().unwrap().clone()
}

#[test]
fn unauthorized_error_never_contains_the_key() {
    let s = Server::faults();
    let mut c = client(&s.url("/s401/v1"), Api::OpenAi, KEY);
    let err = block_on(c.call(&req(), None)).unwrap_err();
    let Error::Http {
        status, message, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 401);
    assert!(
        message.contains("Incorrect API key provided: [REDACTED]"),
        "{message}"
    );
    for text in [
        format!("{err}"),
        format!("{err:?}"),
        format!("{:?}", c.config()),
    ] {
        assert!(!text.contains("MUST-NOT-LEAK"), "key leaked: {text}");
    }
    // The key did go out, in the header only.
    let reqs = seen(&s, "s401");
    assert_eq!(reqs[0]["headers"]["authorization"], format!("Bearer {KEY}"));
    assert!(reqs[0]["headers"].get("openai-beta").is_none());
}

#[test]
fn anthropic_sends_its_own_auth_headers_and_scrubs_too() {
    let s = Server::faults();
    let mut c = client(&s.url("/s401"), Api::Anthropic, KEY);
    let req = ioto_cloud::anthropic::AnthropicRequest::new("claude", 10)
        .message(ioto_cloud::anthropic::AnthropicMessage::user("hi"));
    let err = block_on(c.call(&req, None)).unwrap_err();
    assert!(!format!("{err:?}").contains("MUST-NOT-LEAK"));
    let reqs = seen(&s, "s401");
    let h = &reqs[0]["headers"];
    assert_eq!(h["x-api-key"], KEY);
    assert_eq!(h["anthropic-version"], "2023-06-01");
    assert!(h.get("authorization").is_none());
}

#[test]
fn rate_limit_is_retried_after_the_servers_retry_after() {
    let s = Server::faults();
    let mut c = client(&s.url("/s429/v1"), Api::OpenAi, KEY);
    let t0 = Instant::now();
    let done = block_on(c.call(&req(), None)).unwrap();
    assert_eq!(done.content, "fine");
    assert!(
        t0.elapsed().as_millis() >= 1000,
        "Retry-After: 1 not honoured"
    );
    assert_eq!(seen(&s, "s429").len(), 2);
}

#[test]
fn persistent_rate_limit_gives_up_after_max_attempts() {
    let s = Server::faults();
    let mut cfg = ClientConfig::new(
        Endpoint::local(&s.url("/s429x/v1")).unwrap(),
        Api::OpenAi,
        Secret::new(KEY),
    );
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        backoff: Backoff {
            base_ms: 10,
            max_ms: 50,
        },
    };
    let mut c = client_with(cfg);
    let err = block_on(c.call(&req(), None)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Http {
                status: 429,
                retry_after: Some(0),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(seen(&s, "s429x").len(), 3);
}

#[test]
fn server_error_is_retried() {
    let s = Server::faults();
    let mut cfg = ClientConfig::new(
        Endpoint::local(&s.url("/s500/v1")).unwrap(),
        Api::OpenAi,
        Secret::new(KEY),
    );
    cfg.retry.backoff.base_ms = 10;
    let mut c = client_with(cfg);
    assert_eq!(block_on(c.call(&req(), None)).unwrap().content, "fine");
    assert_eq!(seen(&s, "s500").len(), 2);
}

#[test]
fn stream_cut_mid_event_is_an_error_not_an_answer() {
    let s = Server::faults();
    let mut c = client(&s.url("/scut/v1"), Api::OpenAi, KEY);
    let mut streamed = String::new();
    let err = block_on(c.stream(&req(), None, &mut |t| streamed.push_str(t))).unwrap_err();
    assert_eq!(err, Error::StreamIncomplete);
    assert_eq!(streamed, "The answer ");
}

#[test]
fn invalid_json_body_is_a_typed_error() {
    let s = Server::faults();
    let mut c = client(&s.url("/sbadjson/v1"), Api::OpenAi, KEY);
    assert_eq!(
        block_on(c.call(&req(), None)).unwrap_err(),
        Error::Json("chat.completion")
    );
}

#[test]
fn over_long_answers_hit_the_byte_cap() {
    let s = Server::faults();
    let mut cfg = ClientConfig::new(
        Endpoint::local(&s.url("/slong/v1")).unwrap(),
        Api::OpenAi,
        Secret::new(KEY),
    );
    cfg.limits.max_response_bytes = 64 * 1024;
    cfg.limits.answer.keep_text = false;
    let mut c = client_with(cfg);
    assert_eq!(
        block_on(c.call(&req(), None)).unwrap_err(),
        Error::ResponseTooLarge { limit: 64 * 1024 }
    );
    let mut n = 0usize;
    let err = block_on(c.stream(&req(), None, &mut |t| n += t.len())).unwrap_err();
    assert_eq!(err, Error::ResponseTooLarge { limit: 64 * 1024 });
    assert!(n > 30_000, "text should have streamed before the cap ({n})");
}

#[test]
fn budget_is_enforced_before_sending() {
    let s = Server::faults();
    let mut cfg = ClientConfig::new(
        Endpoint::local(&s.url("/s500/v1")).unwrap(),
        Api::OpenAi,
        Secret::new(KEY),
    );
    cfg.budget = BudgetLimits {
        calls_per_hour: 1,
        ..BudgetLimits::default()
    };
    cfg.retry = RetryPolicy::none();
    let mut c = client_with(cfg);
    assert!(matches!(
        block_on(c.call(&req(), None)),
        Err(Error::Http { status: 500, .. })
    ));
    assert_eq!(
        block_on(c.call(&req(), None)).unwrap_err(),
        Error::BudgetExceeded("calls per hour")
    );
    assert_eq!(
        seen(&s, "s500").len(),
        1,
        "the refused call must not reach the server"
    );
}

/// The shared device tools, counting `read_sensor` calls in `reads`.
fn device_tools<'a>(fan: &'a Cell<f64>, reads: &'a Cell<u32>) -> ToolRegistry<'a> {
    common::device_tools_observed(fan, move || reads.set(reads.get() + 1))
}

/// Runs the Chat tool loop against fault scenario `scenario` with `reg`; the scenario
/// ends with the answer "done".
fn chat_loop_until_done(
    s: &Server,
    scenario: &str,
    reg: &mut ToolRegistry<'_>,
) -> Vec<ExecutedCall> {
    let mut c = client(&s.url(&format!("/{scenario}/v1")), Api::OpenAi, KEY);
    let (answer, calls) = block_on(run_chat(
        &mut c,
        reg,
        req(),
        LoopCaps::default(),
        &mut |_| {},
    ))
    .unwrap();
    assert_eq!(answer.content, "done");
    calls
}

#[test]
fn out_of_schema_arguments_are_rejected_before_the_function_runs() {
    let s = Server::faults();
    let (fan, reads) = (Cell::new(-1.0), Cell::new(0));
    let mut reg = device_tools(&fan, &reads);
    let calls = chat_loop_until_done(&s, "sbadargs", &mut reg);
    assert_eq!(fan.get(), -1.0, "set_actuator must not run with value 5000");
    assert_eq!(reads.get(), 1, "only the valid read_sensor call runs");
    assert!(
        matches!(&calls[0].status, CallStatus::Rejected(ToolError::Invalid(e)) if e.violation == Violation::OutOfRange)
    );
    assert!(
        matches!(&calls[1].status, CallStatus::Rejected(ToolError::Invalid(e)) if e.violation == Violation::UnknownField("extra".into()))
    );
    assert_eq!(calls[2].status, CallStatus::Ok);
    // Every call was logged with its arguments, and each got an answer with its id.
    let log: Vec<_> = reg.log().collect();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].arguments, r#"{"actuator": "fan", "value": 5000}"#);
    let reqs = seen(&s, "sbadargs");
    let msgs = reqs[1]["body"]["messages"].as_array().unwrap();
    let tool_msgs: Vec<&Value> = msgs.iter().filter(|m| m["role"] == "tool").collect();
    let ids: Vec<&str> = tool_msgs
        .iter()
        .map(|m| m["tool_call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["call_a", "call_b", "call_c"]);
    assert!(
        tool_msgs[0]["content"]
            .as_str()
            .unwrap()
            .contains("out of range")
    );
    assert!(tool_msgs[2]["content"].as_str().unwrap().contains("21.5"));
}

#[test]
fn unknown_tool_is_rejected_and_reported_to_the_model() {
    let s = Server::faults();
    let (fan, reads) = (Cell::new(-1.0), Cell::new(0));
    let mut reg = device_tools(&fan, &reads);
    let calls = chat_loop_until_done(&s, "sunknown", &mut reg);
    assert_eq!(
        calls[0].status,
        CallStatus::Rejected(ToolError::UnknownTool("format_disk".into()))
    );
    let reqs = seen(&s, "sunknown");
    let last = reqs[1]["body"]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["tool_call_id"], "call_x");
    assert!(last["content"].as_str().unwrap().contains("unknown tool"));
}

#[test]
fn iteration_cap_stops_a_model_that_keeps_calling_tools() {
    let s = Server::faults();
    let mut c = client(&s.url("/sunknown/v1"), Api::OpenAi, KEY);
    let (fan, reads) = (Cell::new(-1.0), Cell::new(0));
    let mut reg = device_tools(&fan, &reads);
    let caps = LoopCaps {
        max_iterations: 1,
        ..LoopCaps::default()
    };
    let err = block_on(run_chat(&mut c, &mut reg, req(), caps, &mut |_| {})).unwrap_err();
    assert_eq!(err, Error::IterationCap(1));
}

#[test]
fn responses_loop_chains_with_previous_response_id_sending_only_new_items() {
    use ioto_cloud::responses::{InputItem, ResponsesRequest};
    use ioto_cloud::tool_loop::{Chaining, run_responses};
    let s = Server::faults();
    let mut c = client(&s.url("/sprev/v1"), Api::OpenAi, KEY);
    let (fan, reads) = (Cell::new(-1.0), Cell::new(0));
    let mut reg = device_tools(&fan, &reads);
    let mut req = ResponsesRequest::new("m").input(InputItem::user("temperature?"));
    req.store = Some(true);
    let (r, calls) = block_on(run_responses(
        &mut c,
        &mut reg,
        req,
        Chaining::PreviousResponseId,
        LoopCaps::default(),
        &mut |_| {},
    ))
    .unwrap();
    assert_eq!(r.output_text(), "21.5 C");
    assert_eq!(calls.len(), 1);
    assert_eq!(reads.get(), 1);
    assert_eq!(seen(&s, "sprev").len(), 2);
}
