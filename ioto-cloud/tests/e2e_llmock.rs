//! End to end against a real OpenAI-compatible server from PyPI (llmock 0.2.2), started
//! on an ephemeral loopback port and killed on drop: chat, streaming, Responses,
//! Anthropic, two-step tool loops with parallel calls, structured output, and the
//! server's own scripted faults.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

use common::{Server, block_on, client, device_tools, requests, script};
use ioto_cloud::Error;
use ioto_cloud::anthropic::{AnthropicMessage, AnthropicRequest};
use ioto_cloud::api::ModelAnswer;
use ioto_cloud::chat::{ChatMessage, ChatRequest};
use ioto_cloud::client::Api;
use ioto_cloud::responses::{InputItem, ResponsesRequest};
use ioto_cloud::structured::{Decision, Diagnosis, ResponseFormat, parse_decision};
use ioto_cloud::tool_loop::{Chaining, LoopCaps, run_anthropic, run_chat, run_responses};
use ioto_cloud::tools::{CallStatus, ToolError};
use ioto_cloud::types::FinishReason;
use serde_json::{Value, json};
use std::cell::Cell;

const HELLO: &str = "Hello! This is a mock response from gpt-4o.";

fn two_parallel_calls() -> Value {
    json!([{"type": "reply", "tool_calls": [
        {"name": "read_sensor", "arguments": {"sensor": "vibration"}},
        {"name": "set_actuator", "arguments": {"actuator": "fan", "value": 1200}}
    ]}])
}

fn chat_req() -> ChatRequest {
    ChatRequest::new("gpt-4o")
        .message(ChatMessage::User("hello".into()))
        .max_tokens(100)
}

#[test]
fn chat_whole_and_streamed() {
    let s = Server::llmock();
    let mut c = client(&s.url("/v1"), Api::OpenAi, "sk-local");
    let whole = block_on(c.call(&chat_req(), None)).unwrap();
    assert_eq!(whole.content, HELLO);
    assert_eq!(whole.finish_reason, FinishReason::Stop);
    let mut streamed = String::new();
    let mut deltas = 0;
    let st = block_on(c.stream(&chat_req(), None, &mut |t| {
        streamed.push_str(t);
        deltas += 1;
    }))
    .unwrap();
    assert_eq!(st.content, HELLO);
    assert_eq!(streamed, HELLO);
    assert!(deltas > 3, "answer should arrive in pieces ({deltas})");
    assert_eq!(st.finish_reason, FinishReason::Stop);
    assert!(st.usage.is_some(), "include_usage chunk missing");
    let reqs = requests(&s);
    assert_eq!(reqs.len(), 2);
}

#[test]
fn chat_two_step_tool_loop_with_parallel_calls() {
    let s = Server::llmock();
    script(&s, two_parallel_calls());
    let mut c = client(&s.url("/v1"), Api::OpenAi, "sk-local");
    let fan = Cell::new(0.0);
    let mut reg = device_tools(&fan);
    for stream in [false, true] {
        if stream {
            script(&s, two_parallel_calls());
        }
        let caps = LoopCaps {
            stream,
            ..LoopCaps::default()
        };
        let (answer, calls) =
            block_on(run_chat(&mut c, &mut reg, chat_req(), caps, &mut |_| {})).unwrap();
        assert_eq!(
            calls.len(),
            2,
            "both parallel calls executed (stream={stream})"
        );
        assert!(calls.iter().all(|c| c.status == CallStatus::Ok));
        assert_eq!(fan.get(), 1200.0);
        assert!(!answer.content.is_empty());
        assert!(answer.tool_calls.is_empty());
    }
    // The second turn of each loop answered both calls with matching ids.
    let reqs = requests(&s);
    assert_eq!(reqs.len(), 4);
    for (first, second) in [(&reqs[0], &reqs[1]), (&reqs[2], &reqs[3])] {
        let _ = first;
        let msgs = second["body"]["messages"].as_array().unwrap();
        let assistant = msgs.iter().find(|m| m["role"] == "assistant").unwrap();
        let call_ids: Vec<&str> = assistant["tool_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        let answered: Vec<&str> = msgs
            .iter()
            .filter(|m| m["role"] == "tool")
            .map(|m| m["tool_call_id"].as_str().unwrap())
            .collect();
        assert_eq!(call_ids.len(), 2);
        assert_eq!(call_ids, answered);
    }
}

fn resp_req() -> ResponsesRequest {
    let mut r = ResponsesRequest::new("gpt-4o")
        .instructions("You are a pump controller.")
        .input(InputItem::user("hello"));
    r.store = Some(false);
    r
}

#[test]
fn responses_whole_and_streamed() {
    let s = Server::llmock();
    let mut c = client(&s.url("/v1"), Api::OpenAi, "sk-local");
    let whole = block_on(c.call(&resp_req(), None)).unwrap();
    assert_eq!(whole.output_text(), HELLO);
    assert_eq!(whole.status, "completed");
    let mut streamed = String::new();
    let st = block_on(c.stream(&resp_req(), None, &mut |t| streamed.push_str(t))).unwrap();
    assert_eq!(streamed, HELLO);
    assert_eq!(st.output_text(), HELLO);
    assert!(st.usage.is_some());
}

#[test]
fn responses_tool_loop_with_parallel_calls_streamed_and_whole() {
    let s = Server::llmock();
    let mut c = client(&s.url("/v1"), Api::OpenAi, "sk-local");
    let fan = Cell::new(0.0);
    let mut reg = device_tools(&fan);
    for stream in [false, true] {
        script(&s, two_parallel_calls());
        let caps = LoopCaps {
            stream,
            ..LoopCaps::default()
        };
        let (resp, calls) = block_on(run_responses(
            &mut c,
            &mut reg,
            resp_req(),
            Chaining::FullHistory,
            caps,
            &mut |_| {},
        ))
        .unwrap();
        assert_eq!(calls.len(), 2);
        assert!(
            calls.iter().all(|c| c.status == CallStatus::Ok),
            "{calls:?}"
        );
        assert!(resp.function_calls().is_empty());
        assert!(!resp.output_text().is_empty());
    }
    let reqs = requests(&s);
    assert_eq!(reqs.len(), 4);
    for second in [&reqs[1], &reqs[3]] {
        let input = second["body"]["input"].as_array().unwrap();
        let calls: Vec<&str> = input
            .iter()
            .filter(|i| i["type"] == "function_call")
            .map(|i| i["call_id"].as_str().unwrap())
            .collect();
        let outs: Vec<&str> = input
            .iter()
            .filter(|i| i["type"] == "function_call_output")
            .map(|i| i["call_id"].as_str().unwrap())
            .collect();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls, outs, "every function_call answered with its call_id");
        assert_eq!(input[0]["role"], "user", "history kept in order");
    }
}

#[test]
fn responses_structured_output_becomes_a_typed_decision() {
    let s = Server::llmock();
    let mut c = client(&s.url("/v1"), Api::OpenAi, "sk-local");
    let req = resp_req().text_format(ResponseFormat::for_decision::<Diagnosis>());
    let r = block_on(c.call(&req, None)).unwrap();
    let d: Diagnosis = parse_decision(&r.output_text()).unwrap();
    // llmock fills the schema with a valid example; the enums must be ours.
    let schema_json = Diagnosis::schema().to_json();
    let allowed = schema_json["properties"]["severity"]["enum"]
        .as_array()
        .unwrap();
    assert!(
        allowed
            .iter()
            .any(|v| v == &json!(format!("{:?}", d.severity).to_lowercase()))
    );
    // Chat's response_format gives the same.
    let req = chat_req().response_format(ResponseFormat::for_decision::<Diagnosis>());
    let cc = block_on(c.call(&req, None)).unwrap();
    parse_decision::<Diagnosis>(&cc.content).unwrap();
    // And a scripted off-schema answer is rejected.
    script(
        &s,
        json!([{"type": "reply", "text": "{\"severity\":\"bad\",\"cause\":\"x\",\"action\":\"none\"}"}]),
    );
    let r = block_on(c.call(&resp_req(), None)).unwrap();
    assert!(matches!(
        parse_decision::<Diagnosis>(&r.output_text()),
        Err(Error::Schema(_))
    ));
}

fn anth_req() -> AnthropicRequest {
    AnthropicRequest::new("claude-sonnet-4", 200)
        .system("You are a pump controller.")
        .message(AnthropicMessage::user("hello"))
}

#[test]
fn anthropic_whole_streamed_and_tool_loop() {
    let s = Server::llmock();
    let mut c = client(&s.url("/anthropic"), Api::Anthropic, "sk-ant-local");
    let whole = block_on(c.call(&anth_req(), None)).unwrap();
    assert!(whole.text().starts_with("Hello!"), "{}", whole.text());
    assert_eq!(whole.stop_reason, FinishReason::Stop);
    let mut streamed = String::new();
    let st = block_on(c.stream(&anth_req(), None, &mut |t| streamed.push_str(t))).unwrap();
    assert_eq!(streamed, st.text());
    assert_eq!(st.text(), whole.text());
    let fan = Cell::new(0.0);
    let mut reg = device_tools(&fan);
    for stream in [false, true] {
        script(&s, two_parallel_calls());
        let caps = LoopCaps {
            stream,
            ..LoopCaps::default()
        };
        let (answer, calls) = block_on(run_anthropic(
            &mut c,
            &mut reg,
            anth_req(),
            caps,
            &mut |_| {},
        ))
        .unwrap();
        assert_eq!(calls.len(), 2);
        assert!(
            calls.iter().all(|c| c.status == CallStatus::Ok),
            "{calls:?}"
        );
        assert!(answer.tool_uses().is_empty());
    }
    let reqs = requests(&s);
    let last = reqs.last().unwrap()["body"]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let ids: Vec<&str> = last["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["tool_use_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
}

#[test]
fn real_peer_faults_rate_limit_truncation_and_bad_tool_arguments() {
    let s = Server::llmock();
    let mut c = client(&s.url("/v1"), Api::OpenAi, "sk-local");
    // 429 with Retry-After from the real server, then success.
    script(
        &s,
        json!([{"type": "fail", "status": 429, "retry_after": 0}]),
    );
    assert_eq!(block_on(c.call(&chat_req(), None)).unwrap().content, HELLO);
    // A stream that ends cleanly but early (no finish, no [DONE]) is not an answer.
    script(
        &s,
        json!([{"type": "stream_fault", "kind": "truncate", "after_chunks": 2}]),
    );
    let err = block_on(c.stream(&chat_req(), None, &mut |_| {})).unwrap_err();
    assert_eq!(err, Error::StreamIncomplete);
    // A malformed chunk is a typed error.
    script(
        &s,
        json!([{"type": "stream_fault", "kind": "malformed", "after_chunks": 1}]),
    );
    assert!(matches!(
        block_on(c.stream(&chat_req(), None, &mut |_| {})),
        Err(Error::Json(_))
    ));
    // Malformed tool arguments go back to the model as an error output.
    script(
        &s,
        json!([{"type": "tool_fault", "kind": "malformed_arguments"}]),
    );
    let fan = Cell::new(0.0);
    let mut reg = device_tools(&fan);
    let (_, calls) = block_on(run_chat(
        &mut c,
        &mut reg,
        chat_req(),
        LoopCaps::default(),
        &mut |_| {},
    ))
    .unwrap();
    assert_eq!(
        calls[0].status,
        CallStatus::Rejected(ToolError::InvalidJson)
    );
}
