//! Unit behaviour of the building blocks: schema validation, the tool registry,
//! retry/budget, the escalation queue, Responses streaming order, Realtime events.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use ioto_cloud::Error;
use ioto_cloud::api::StreamAccumulator;
use ioto_cloud::escalation::{EscalationError, EscalationQueue};
use ioto_cloud::realtime::{self, RealtimeSession, ServerEvent};
use ioto_cloud::resilience::{Budget, BudgetLimits, RetryPolicy};
use ioto_cloud::responses_stream::ResponsesStream;
use ioto_cloud::schema::{Schema, Violation};
use ioto_cloud::tools::{CallStatus, ToolError, ToolRegistry, parse_and_validate};
use ioto_cloud::transport::TransportError;
use ioto_cloud::types::AnswerLimits;
use ioto_core::Instant;
use ioto_core::backoff::Backoff;
use ioto_core::outbox::RamQueue;
use serde_json::{Value, json};

fn pump_schema() -> Schema {
    Schema::object()
        .field("rpm", "speed", Schema::integer().range(0, 3000))
        .field("mode", "mode", Schema::string().one_of(&["eco", "boost"]))
        .optional("gain", "gain", Schema::number().between(0.0, 1.0))
        .optional(
            "tags",
            "tags",
            Schema::array(Schema::string().max_len(4)).max_items(2),
        )
        .optional("enabled", "on", Schema::boolean())
}

fn violation(args: &str) -> Option<(String, Violation)> {
    match parse_and_validate(&pump_schema(), args) {
        Ok(_) => None,
        Err(ToolError::Invalid(e)) => Some((e.path, e.violation)),
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn schema_checks_types_ranges_enums_required_and_extra_fields() {
    assert_eq!(
        violation(r#"{"rpm": 1500, "mode": "eco", "gain": 0.5, "tags": ["a"], "enabled": true}"#),
        None
    );
    assert_eq!(
        violation(r#"{"rpm": 3001, "mode": "eco"}"#),
        Some((".rpm".into(), Violation::OutOfRange))
    );
    assert_eq!(
        violation(r#"{"rpm": -1, "mode": "eco"}"#),
        Some((".rpm".into(), Violation::OutOfRange))
    );
    assert_eq!(
        violation(r#"{"rpm": 1.5, "mode": "eco"}"#),
        Some((".rpm".into(), Violation::WrongType("integer")))
    );
    assert_eq!(
        violation(r#"{"rpm": "10", "mode": "eco"}"#),
        Some((".rpm".into(), Violation::WrongType("integer")))
    );
    assert_eq!(
        violation(r#"{"rpm": 1, "mode": "turbo"}"#),
        Some((".mode".into(), Violation::NotInEnum))
    );
    assert_eq!(
        violation(r#"{"mode": "eco"}"#),
        Some((".rpm".into(), Violation::Missing))
    );
    assert_eq!(
        violation(r#"{"rpm": 1, "mode": "eco", "x": 1}"#),
        Some(("".into(), Violation::UnknownField("x".into())))
    );
    assert_eq!(
        violation(r#"{"rpm": 1, "mode": "eco", "gain": 1.01}"#),
        Some((".gain".into(), Violation::OutOfRange))
    );
    assert_eq!(
        violation(r#"{"rpm": 1, "mode": "eco", "tags": ["a","b","c"]}"#),
        Some((".tags".into(), Violation::TooLong))
    );
    assert_eq!(
        violation(r#"{"rpm": 1, "mode": "eco", "tags": ["abcde"]}"#),
        Some((".tags[0]".into(), Violation::TooLong))
    );
    assert_eq!(
        violation(r#"{"rpm": 1, "mode": "eco", "enabled": 1}"#),
        Some((".enabled".into(), Violation::WrongType("boolean")))
    );
    assert_eq!(
        parse_and_validate(&pump_schema(), "[1]"),
        Err(ToolError::InvalidJson)
    );
    assert_eq!(
        parse_and_validate(&pump_schema(), "{"),
        Err(ToolError::InvalidJson)
    );
    let big = format!(r#"{{"rpm": 1, "mode": "{}"}}"#, "e".repeat(5000));
    assert_eq!(
        parse_and_validate(&pump_schema(), &big),
        Err(ToolError::ArgsTooLarge)
    );
}

#[test]
fn schema_json_is_strict_json_schema() {
    let j = pump_schema().to_json();
    assert_eq!(j["additionalProperties"], json!(false));
    assert_eq!(j["required"], json!(["rpm", "mode"]));
    assert_eq!(
        j["properties"]["rpm"],
        json!({"type": "integer", "minimum": 0, "maximum": 3000, "description": "speed"})
    );
    assert!(!pump_schema().all_required());
}

#[test]
fn registry_rejects_bad_declarations_and_logs_every_call() {
    let mut reg = ToolRegistry::new(2);
    let ok = |_: &Value| Ok(json!({"ok": true}));
    assert_eq!(
        reg.register("bad name", "", Schema::object(), ok),
        Err(Error::BadToolDeclaration("invalid name"))
    );
    assert!(reg.register("t", "", Schema::integer(), ok).is_err());
    reg.register("t", "", Schema::object(), ok).unwrap();
    assert_eq!(
        reg.register("t", "", Schema::object(), ok),
        Err(Error::BadToolDeclaration("duplicate name"))
    );
    reg.register("fails", "", Schema::object(), |_: &Value| {
        Err("sensor offline".to_string())
    })
    .unwrap();
    assert_eq!(
        reg.dispatch("t", "{}"),
        (r#"{"ok":true}"#.to_string(), CallStatus::Ok)
    );
    let (out, st) = reg.dispatch("fails", "");
    assert_eq!(
        st,
        CallStatus::Rejected(ToolError::Failed("sensor offline".into()))
    );
    assert_eq!(out, r#"{"error":"tool failed: sensor offline"}"#);
    let (_, st) = reg.dispatch("nope", "{}");
    assert_eq!(
        st,
        CallStatus::Rejected(ToolError::UnknownTool("nope".into()))
    );
    assert_eq!(reg.calls_total(), 3);
    let names: Vec<&str> = reg.log().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["fails", "nope"], "the log keeps the last 2");
}

#[test]
fn retry_policy_honours_retry_after_and_caps() {
    let p = RetryPolicy {
        max_attempts: 4,
        backoff: Backoff {
            base_ms: 100,
            max_ms: 5_000,
        },
    };
    // Full jitter: the wait is `random mod (ceiling + 1)`, ceilings 100, 200, 400 ms.
    assert_eq!(p.delay_ms(1, None, 250), Some(48));
    assert_eq!(p.delay_ms(2, None, u32::MAX), Some(99));
    assert_eq!(p.delay_ms(3, None, 400), Some(400));
    assert_eq!(p.delay_ms(3, Some(2), 0), Some(2_000));
    assert_eq!(p.delay_ms(3, Some(3600), 0), Some(5_000));
    assert_eq!(p.delay_ms(4, None, 0), None);
    let http = |status| Error::Http {
        status,
        retry_after: None,
        message: String::new(),
    };
    assert!(RetryPolicy::retryable(&http(429)));
    assert!(RetryPolicy::retryable(&http(503)));
    assert!(!RetryPolicy::retryable(&http(401)));
    assert!(!RetryPolicy::retryable(&http(400)));
    assert!(RetryPolicy::retryable(&Error::Transport(
        TransportError::Connect
    )));
    assert!(!RetryPolicy::retryable(&Error::Transport(
        TransportError::Tls
    )));
}

#[test]
fn budget_counts_calls_and_tokens_per_window() {
    const H: u64 = 3_600_000_000;
    let mut b = Budget::new(BudgetLimits {
        calls_per_hour: 2,
        calls_per_day: 3,
        tokens_per_hour: 1000,
        tokens_per_day: 0,
    });
    b.check(Instant(0), 400).unwrap();
    b.settle(400, 100);
    assert_eq!(b.used_this_hour(), (1, 100));
    assert_eq!(
        b.check(Instant(1), 901),
        Err(Error::BudgetExceeded("tokens per hour"))
    );
    b.check(Instant(2), 900).unwrap();
    assert_eq!(
        b.check(Instant(3), 1),
        Err(Error::BudgetExceeded("calls per hour"))
    );
    b.check(Instant(H), 10).unwrap();
    assert_eq!(
        b.check(Instant(H + 5), 10),
        Err(Error::BudgetExceeded("calls per day"))
    );
    b.check(Instant(24 * H), 10).unwrap();
}

#[test]
fn escalation_queue_expires_and_bounds() {
    embassy_futures::block_on(async {
        let mut mem = [0u8; 128];
        let mut q = EscalationQueue::new(RamQueue::new(&mut mem, 2));
        q.enqueue(Instant(0), b"first", 1_000).await.unwrap();
        q.enqueue(Instant(0), b"second", 10_000).await.unwrap();
        assert_eq!(
            q.enqueue(Instant(0), b"third", 10_000).await,
            Err(EscalationError::Full)
        );
        let mut buf = [0u8; 64];
        let e = q.next(Instant(500_000), &mut buf).await.unwrap().unwrap();
        assert_eq!(e.payload, b"first");
        let e = q.next(Instant(2_000_000), &mut buf).await.unwrap().unwrap();
        assert_eq!(e.payload, b"second");
        assert_eq!(q.expired(), 1);
        assert!(q.done().await.unwrap());
        assert!(q.is_empty());
    });
}

fn ev(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn responses_stream_checks_sequence_and_collects_calls() {
    let mut s = ResponsesStream::new(AnswerLimits::default());
    let mut text = String::new();
    let mut feed = |s: &mut ResponsesStream, v: Value| s.on_data(&ev(v), &mut |t| text.push_str(t));
    feed(
        &mut s,
        json!({"type": "response.created", "sequence_number": 0, "response": {}}),
    )
    .unwrap();
    feed(
        &mut s,
        json!({"type": "response.output_text.delta", "sequence_number": 1, "delta": "Hi"}),
    )
    .unwrap();
    feed(&mut s, json!({"type": "response.function_call_arguments.delta", "sequence_number": 2, "item_id": "fc_1", "delta": "{\"a\""})).unwrap();
    feed(&mut s, json!({"type": "response.function_call_arguments.delta", "sequence_number": 3, "item_id": "fc_1", "delta": ":1}"})).unwrap();
    assert_eq!(s.arguments("fc_1"), Some("{\"a\":1}"));
    let err = feed(
        &mut s,
        json!({"type": "response.output_text.delta", "sequence_number": 3, "delta": "x"}),
    )
    .unwrap_err();
    assert_eq!(err, Error::OutOfOrder { last: 3, got: 3 });
    let reasoning =
        json!({"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "opaque"});
    let call = json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": "{\"a\":1}"});
    feed(
        &mut s,
        json!({"type": "response.completed", "sequence_number": 9, "response": {
        "id": "resp_1", "status": "completed", "output": [reasoning.clone(), call],
        "usage": {"input_tokens": 3, "output_tokens": 4}}}),
    )
    .unwrap();
    let r = s.finish().unwrap();
    assert_eq!(
        r.output[0], reasoning,
        "reasoning items pass through untouched"
    );
    assert_eq!(r.function_calls()[0].id, "call_1");
    assert_eq!(text, "Hi");
    let mut s = ResponsesStream::new(AnswerLimits::default());
    let err = s.on_data(&ev(json!({"type": "error", "sequence_number": 0, "code": "server_error", "message": "boom"})), &mut |_| {});
    assert_eq!(
        err,
        Err(Error::Api {
            code: "server_error".into(),
            message: "boom".into()
        })
    );
    assert_eq!(
        ResponsesStream::new(AnswerLimits::default()).finish(),
        Err(Error::StreamIncomplete)
    );
}

#[test]
fn realtime_audio_roundtrip_and_tool_routing() {
    let samples = [0i16, 1, -1, i16::MIN, i16::MAX, 1234];
    let append: Value = serde_json::from_str(&realtime::audio_append(&samples).unwrap()).unwrap();
    assert_eq!(append["type"], "input_audio_buffer.append");
    assert_eq!(
        realtime::decode_audio(append["audio"].as_str().unwrap()).unwrap(),
        samples
    );
    // Little-endian PCM16: 1 -> 01 00.
    assert_eq!(
        realtime::audio_append(&[1]).unwrap(),
        r#"{"audio":"AQA=","type":"input_audio_buffer.append"}"#
    );
    assert!(realtime::decode_audio("AQ==").is_err());

    let mut reg = ToolRegistry::default();
    reg.register("get_temp", "", Schema::object(), |_: &Value| {
        Ok(json!({"c": 21}))
    })
    .unwrap();
    let mut session = RealtimeSession::new(&mut reg);
    let (e, r) = session
        .on_event(r#"{"type":"session.created","session":{"id":"sess_1"}}"#)
        .unwrap();
    assert_eq!(
        (e, r.len()),
        (ServerEvent::SessionCreated("sess_1".into()), 0)
    );
    let (_, r) = session
        .on_event(r#"{"type":"response.function_call_arguments.done","call_id":"c1","name":"get_temp","arguments":"{}"}"#)
        .unwrap();
    assert_eq!(
        r,
        [
            r#"{"item":{"call_id":"c1","output":"{\"c\":21}","type":"function_call_output"},"type":"conversation.item.create"}"#
        ]
    );
    let (_, r) = session
        .on_event(r#"{"type":"response.function_call_arguments.done","call_id":"c2","name":"rm_rf","arguments":"{}"}"#)
        .unwrap();
    assert!(r[0].contains("unknown tool"));
    let (_, r) = session
        .on_event(r#"{"type":"response.done","response":{"status":"completed"}}"#)
        .unwrap();
    assert_eq!(r, [r#"{"type":"response.create"}"#]);
    let (_, r) = session
        .on_event(r#"{"type":"response.done","response":{"status":"completed"}}"#)
        .unwrap();
    assert!(r.is_empty());
    let (e, _) = session
        .on_event(r#"{"type":"response.output_audio.delta","delta":"AQA="}"#)
        .unwrap();
    assert_eq!(e, ServerEvent::AudioDelta("AQA=".into()));
    assert!(session.on_event("not json").is_err());
    let (path, headers) =
        realtime::connect_request("/v1", "gpt-realtime", &ioto_cloud::Secret::new("k"));
    assert_eq!(path, "/v1/realtime?model=gpt-realtime");
    assert!(
        headers
            .iter()
            .all(|(h, _)| !h.eq_ignore_ascii_case("openai-beta"))
    );
}

/// A streamed `tool_use` whose `input_json_delta`s do not form a JSON object does not
/// fail the stream: the call reaches the registry with the raw text, is rejected there
/// (the model is told), and the echoed assistant message carries `input: {}`.
#[test]
fn anthropic_invalid_tool_input_becomes_a_rejected_call() {
    use ioto_cloud::anthropic_stream::AnthropicStream;
    let mut s = AnthropicStream::new(AnswerLimits::default());
    let events = [
        json!({"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 9}}}),
        json!({"type": "content_block_start", "index": 0,
               "content_block": {"type": "tool_use", "id": "toolu_a", "name": "t", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0,
               "delta": {"type": "input_json_delta", "partial_json": "{\"level\": "}}),
        json!({"type": "content_block_delta", "index": 0,
               "delta": {"type": "input_json_delta", "partial_json": "oops"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1,
               "content_block": {"type": "tool_use", "id": "toolu_b", "name": "t", "input": {}}}),
        json!({"type": "content_block_delta", "index": 1,
               "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 5}}),
        json!({"type": "message_stop"}),
    ];
    for e in events {
        s.on_data(&ev(e), &mut |_| {}).unwrap();
    }
    let msg = s.finish().unwrap();
    assert_eq!(
        msg.invalid_inputs,
        [("toolu_a".to_string(), "{\"level\": oops".to_string())]
    );
    assert_eq!(msg.content[0]["input"], json!({}));
    let calls = msg.tool_uses();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].arguments, "{\"level\": oops");
    assert_eq!(calls[1].arguments, "{}");
    let mut reg = ToolRegistry::new(4);
    reg.register("t", "", Schema::object(), |_: &Value| {
        Ok(json!({"ok": true}))
    })
    .unwrap();
    let (out, st) = reg.dispatch(&calls[0].name, &calls[0].arguments);
    assert!(matches!(st, CallStatus::Rejected(_)), "{st:?}");
    assert!(out.contains("error"), "{out}");
    assert_eq!(
        reg.dispatch(&calls[1].name, &calls[1].arguments).1,
        CallStatus::Ok
    );
}
