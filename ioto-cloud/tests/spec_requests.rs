//! Every request body the client can produce validates against the OpenAI OpenAPI spec
//! (tests/spec/openapi.yaml) with Python `jsonschema`; a deliberately broken body must fail.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

use ioto_cloud::api::ModelRequest;
use ioto_cloud::chat::{ChatMessage, ChatRequest};
use ioto_cloud::realtime;
use ioto_cloud::responses::{InputItem, ResponsesRequest};
use ioto_cloud::schema::Schema;
use ioto_cloud::structured::{Diagnosis, ResponseFormat};
use ioto_cloud::tools::ToolRegistry;
use ioto_cloud::types::ToolCall;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

fn registry() -> ToolRegistry<'static> {
    let mut reg = ToolRegistry::default();
    let ok = |_: &Value| Ok(json!({}));
    reg.register(
        "read_sensor",
        "Read a sensor",
        Schema::object().field("sensor", "which", Schema::string().one_of(&["temp", "vib"])),
        ok,
    )
    .unwrap();
    reg.register(
        "set_fan",
        "Fan speed",
        Schema::object()
            .field("rpm", "speed", Schema::integer().range(0, 3000))
            .optional("note", "why", Schema::string().max_len(40))
            .optional(
                "ramp",
                "",
                Schema::array(Schema::number().between(0.0, 1.0)).max_items(4),
            ),
        ok,
    )
    .unwrap();
    reg
}

fn call() -> ToolCall {
    ToolCall {
        id: "call_1".into(),
        name: "read_sensor".into(),
        arguments: r#"{"sensor":"temp"}"#.into(),
    }
}

fn cases() -> Vec<(String, &'static str, Value)> {
    let reg = registry();
    let mut v = Vec::new();
    let chat_base = ChatRequest::new("gpt-4o-mini")
        .message(ChatMessage::System("You are a device.".into()))
        .message(ChatMessage::Developer("Be terse.".into()))
        .message(ChatMessage::User("Status?".into()));
    v.push((
        "chat_plain".into(),
        "CreateChatCompletionRequest",
        chat_base.to_json(None, false),
    ));
    v.push((
        "chat_stream".into(),
        "CreateChatCompletionRequest",
        chat_base.to_json(None, true),
    ));
    let mut full = chat_base.clone().temperature(0.2).max_tokens(300);
    full.parallel_tool_calls = Some(true);
    let full = full
        .message(ChatMessage::Assistant {
            content: None,
            tool_calls: vec![call()],
        })
        .message(ChatMessage::Tool {
            call_id: "call_1".into(),
            content: "{\"value\":21.5}".into(),
        })
        .message(ChatMessage::Assistant {
            content: Some("It is 21.5 C".into()),
            tool_calls: vec![],
        });
    v.push((
        "chat_tools_history".into(),
        "CreateChatCompletionRequest",
        full.to_json(Some(&reg), true),
    ));
    let mut legacy = chat_base.clone().max_tokens(50);
    legacy.legacy_max_tokens = true;
    v.push((
        "chat_legacy_max_tokens".into(),
        "CreateChatCompletionRequest",
        legacy.to_json(None, false),
    ));
    let structured = chat_base
        .clone()
        .response_format(ResponseFormat::for_decision::<Diagnosis>());
    v.push((
        "chat_json_schema".into(),
        "CreateChatCompletionRequest",
        structured.to_json(None, false),
    ));

    let resp_base = ResponsesRequest::new("gpt-4.1-mini")
        .instructions("You are a device.")
        .input(InputItem::user("Status?"));
    v.push((
        "responses_plain".into(),
        "CreateResponse",
        resp_base.to_json(None, false),
    ));
    v.push((
        "responses_stream_tools".into(),
        "CreateResponse",
        resp_base.to_json(Some(&reg), true),
    ));
    let mut chained = ResponsesRequest::new("gpt-4.1-mini").input(InputItem::FunctionCallOutput {
        call_id: "call_1".into(),
        output: "{\"value\":21.5}".into(),
    });
    chained.previous_response_id = Some("resp_123".into());
    chained.store = Some(true);
    chained.max_output_tokens = Some(200);
    chained.temperature = Some(0.1);
    chained.parallel_tool_calls = Some(true);
    v.push((
        "responses_previous_id".into(),
        "CreateResponse",
        chained.to_json(Some(&reg), false),
    ));
    let mut history = resp_base
        .clone()
        .text_format(ResponseFormat::for_decision::<Diagnosis>());
    history.store = Some(false);
    history.input.push(InputItem::Raw(
        json!({"type": "reasoning", "id": "rs_1", "summary": [],
        "encrypted_content": "gAAAA"}),
    ));
    history.input.push(InputItem::Raw(
        json!({"type": "function_call", "id": "fc_1", "call_id": "call_1",
        "name": "read_sensor", "arguments": "{\"sensor\":\"temp\"}"}),
    ));
    history.input.push(InputItem::FunctionCallOutput {
        call_id: "call_1".into(),
        output: "{}".into(),
    });
    v.push((
        "responses_full_history_json_schema".into(),
        "CreateResponse",
        history.to_json(Some(&reg), false),
    ));

    let rt = |s: String| serde_json::from_str::<Value>(&s).unwrap();
    v.push((
        "rt_session_update".into(),
        "RealtimeClientEventSessionUpdate",
        rt(realtime::session_update("Be brief.", &reg, "text")),
    ));
    v.push((
        "rt_session_update_union".into(),
        "RealtimeClientEvent",
        rt(realtime::session_update("Be brief.", &reg, "audio")),
    ));
    v.push((
        "rt_item_text".into(),
        "RealtimeClientEventConversationItemCreate",
        rt(realtime::user_text("hi")),
    ));
    v.push((
        "rt_item_output".into(),
        "RealtimeClientEventConversationItemCreate",
        rt(realtime::function_call_output("call_1", "{}")),
    ));
    v.push((
        "rt_audio".into(),
        "RealtimeClientEventInputAudioBufferAppend",
        rt(realtime::audio_append(&[0, 1, -1, i16::MAX]).unwrap()),
    ));
    v.push((
        "rt_response_create".into(),
        "RealtimeClientEventResponseCreate",
        rt(realtime::response_create()),
    ));
    v.push((
        "rt_response_create_union".into(),
        "RealtimeClientEvent",
        rt(realtime::response_create()),
    ));
    v
}

fn validate(cases: &[(String, &str, Value)]) -> (bool, String) {
    let input: Vec<Value> = cases
        .iter()
        .map(|(n, s, b)| json!({"name": n, "schema": s, "body": b}))
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/spec/validate.py");
    let mut child = Command::new(common::python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn every_request_body_matches_the_openapi_spec() {
    let cases = cases();
    let (ok, report) = validate(&cases);
    assert!(ok, "spec validation failed:\n{report}");
    assert_eq!(
        report.lines().filter(|l| l.starts_with("ok ")).count(),
        cases.len(),
        "{report}"
    );
}

#[test]
fn validator_rejects_broken_bodies() {
    let mut bad_type = ChatRequest::new("m")
        .message(ChatMessage::User("x".into()))
        .to_json(None, false);
    bad_type["messages"][0]["role"] = json!("robot");
    let mut misspelt = ResponsesRequest::new("m")
        .input(InputItem::user("x"))
        .to_json(None, false);
    misspelt["max_output_token"] = json!(5);
    let cases = vec![
        (
            "bad_role".to_string(),
            "CreateChatCompletionRequest",
            bad_type,
        ),
        ("misspelt_field".to_string(), "CreateResponse", misspelt),
        (
            "rt_bad".to_string(),
            "RealtimeClientEventInputAudioBufferAppend",
            json!({"type": "input_audio_buffer.append"}),
        ),
    ];
    let (ok, report) = validate(&cases);
    assert!(!ok, "{report}");
    assert_eq!(
        report.lines().filter(|l| l.starts_with("FAIL ")).count(),
        3,
        "{report}"
    );
}
