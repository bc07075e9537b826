//! Realtime tool calls keep the HTTP loops' rules: at most
//! `AnswerLimits::max_tool_calls` calls run per response (more fail the response with
//! `LimitExceeded("tool calls")`), and a name reaches a tool only when it is exactly
//! that tool's name (a longer one is not cut down to a registered one first). The
//! streamed Chat path is held to the same name rule.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use ioto_cloud::Error;
use ioto_cloud::api::StreamAccumulator;
use ioto_cloud::chat_stream::ChatStream;
use ioto_cloud::realtime::RealtimeSession;
use ioto_cloud::schema::Schema;
use ioto_cloud::tool_loop::execute_all;
use ioto_cloud::tools::{CallStatus, ToolError, ToolRegistry};
use ioto_cloud::types::AnswerLimits;
use serde_json::{Value, json};
use std::cell::Cell;

fn call(id: &str, name: &str) -> String {
    json!({"type": "response.function_call_arguments.done", "response_id": "resp_1",
        "item_id": id, "output_index": 0, "call_id": id, "name": name, "arguments": "{}"})
    .to_string()
}

const CREATED: &str = r#"{"type":"response.created","response":{"id":"resp_2"}}"#;
const DONE: &str = r#"{"type":"response.done","response":{"status":"completed"}}"#;

fn counting_registry<'a>(name: &str, runs: &'a Cell<u32>) -> ToolRegistry<'a> {
    let mut reg = ToolRegistry::default();
    reg.register(name, "", Schema::object(), move |_: &Value| {
        runs.set(runs.get() + 1);
        Ok(json!({"ok": true}))
    })
    .unwrap();
    reg
}

#[test]
fn realtime_runs_at_most_max_tool_calls_per_response() {
    let runs = Cell::new(0);
    let mut reg = counting_registry("ping", &runs);
    let mut session = RealtimeSession::new(&mut reg).with_max_tool_calls(2);
    for id in ["c1", "c2"] {
        let (_, replies) = session.on_event(&call(id, "ping")).unwrap();
        assert_eq!(replies.len(), 1);
    }
    assert_eq!(
        session.on_event(&call("c3", "ping")).unwrap_err(),
        Error::LimitExceeded("tool calls")
    );
    assert_eq!(runs.get(), 2, "a call beyond the cap ran");
    // The cap is per response: the next one may call again.
    let (_, replies) = session.on_event(DONE).unwrap();
    assert_eq!(replies, [r#"{"type":"response.create"}"#]);
    session.on_event(CREATED).unwrap();
    session.on_event(&call("c4", "ping")).unwrap();
    assert_eq!(runs.get(), 3);
}

#[test]
fn realtime_default_cap_is_the_http_loops_cap() {
    let runs = Cell::new(0);
    let mut reg = counting_registry("ping", &runs);
    let mut session = RealtimeSession::new(&mut reg);
    let cap = AnswerLimits::default().max_tool_calls;
    for i in 0..cap {
        session.on_event(&call(&format!("c{i}"), "ping")).unwrap();
    }
    assert_eq!(
        session.on_event(&call("over", "ping")).unwrap_err(),
        Error::LimitExceeded("tool calls")
    );
    assert_eq!(runs.get() as usize, cap);
}

#[test]
fn realtime_name_longer_than_a_registered_one_does_not_reach_it() {
    // A 64-byte name (the longest allowed) and the model's 65-byte one that starts
    // with it: cut to 64 bytes before lookup, it would run the registered tool.
    let name = "a".repeat(64);
    let runs = Cell::new(0);
    let mut reg = counting_registry(&name, &runs);
    let mut session = RealtimeSession::new(&mut reg);
    for longer in [
        format!("{name}b"),
        format!("{name}é"),
        format!("{name}{name}"),
    ] {
        let (_, replies) = session.on_event(&call("c1", &longer)).unwrap();
        assert!(replies[0].contains("unknown tool"), "{replies:?}");
    }
    assert_eq!(runs.get(), 0, "a longer name reached the registered tool");
    let (_, replies) = session.on_event(&call("c2", &name)).unwrap();
    assert!(replies[0].contains(r#"{\"ok\":true}"#), "{replies:?}");
    assert_eq!(runs.get(), 1);
}

#[test]
fn chat_stream_name_longer_than_a_registered_one_does_not_reach_it() {
    let name = "a".repeat(64);
    let runs = Cell::new(0);
    let mut reg = counting_registry(&name, &runs);
    let mut acc = ChatStream::new(AnswerLimits::default());
    let chunk = json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0,
        "id": "call_1", "type": "function", "function": {"name": format!("{name}b"),
        "arguments": "{}"}}]}, "finish_reason": "tool_calls"}]})
    .to_string();
    acc.on_data(chunk.as_bytes(), &mut |_| {}).unwrap();
    acc.on_data(b"[DONE]", &mut |_| {}).unwrap();
    let done = acc.finish().unwrap();
    let executed = execute_all(&mut reg, &done.tool_calls);
    assert!(
        matches!(
            &executed[0].status,
            CallStatus::Rejected(ToolError::UnknownTool(_))
        ),
        "{executed:?}"
    );
    assert_eq!(runs.get(), 0, "a longer name reached the registered tool");
}
