//! ioto-cloud on target: parse recorded model streams (OpenAI parallel tool calls,
//! Anthropic tool use) in small pieces through the bounded SSE parser, and run the
//! tool-argument validation that guards device functions. `cargo xtask hil-test`
//! runs it on every virtual board.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use core::cell::Cell;
use ioto_board_qemu::{entry, harness, tests};
use ioto_cloud::anthropic_stream::AnthropicStream;
use ioto_cloud::api::StreamAccumulator;
use ioto_cloud::builtins::{self, Actuator};
use ioto_cloud::chat_stream::ChatStream;
use ioto_cloud::schema::Violation;
use ioto_cloud::structured::{Diagnosis, Severity, parse_decision};
use ioto_cloud::tools::{CallStatus, ToolError, ToolRegistry};
use ioto_cloud::types::{AnswerLimits, FinishReason};
use ioto_transport::sse::SseParser;

const PARALLEL: &[u8] =
    include_bytes!("../../../../ioto-cloud/tests/fixtures/chat_stream_parallel_tool_calls.sse");
const ANTHROPIC_TOOL: &[u8] =
    include_bytes!("../../../../ioto-cloud/tests/fixtures/anthropic/messages_stream_tool_use.sse");

/// Feeds `bytes` in `piece`-byte reads through a 512-byte SSE buffer.
fn drive(bytes: &[u8], piece: usize, on_data: &mut dyn FnMut(&[u8])) {
    let mut buf = [0u8; 512];
    let mut parser = SseParser::new(&mut buf);
    for chunk in bytes.chunks(piece) {
        let mut input = chunk;
        while !input.is_empty() {
            let fed = parser.feed(input).expect("valid SSE");
            input = &input[fed.consumed..];
            if let Some(ev) = parser.event() {
                on_data(ev.data);
            }
        }
    }
    if parser.finish().expect("valid SSE") {
        on_data(parser.event().expect("event").data);
    }
}

fn openai_parallel_tool_calls_stream() {
    for piece in [1, 7, 64, PARALLEL.len()] {
        let mut acc = ChatStream::new(AnswerLimits::default());
        drive(PARALLEL, piece, &mut |d| {
            acc.on_data(d, &mut |_| {}).expect("chunk")
        });
        let c = acc.finish().expect("complete");
        assert_eq!(c.tool_calls.len(), 2);
        assert_eq!(c.tool_calls[0].name, "GetWeatherArgs");
        assert_eq!(
            c.tool_calls[0].arguments,
            r#"{"city": "Edinburgh", "country": "GB", "units": "c"}"#
        );
        assert_eq!(c.tool_calls[1].id, "call_DNYTawLBoN8fj3KN6qU9N1Ou");
        assert_eq!(
            c.tool_calls[1].arguments,
            r#"{"ticker": "AAPL", "exchange": "NASDAQ"}"#
        );
        assert_eq!(c.finish_reason, FinishReason::ToolCalls);
        assert_eq!(c.usage.map(|u| u.total()), Some(209));
    }
}

fn anthropic_tool_use_stream() {
    for piece in [1, 13, ANTHROPIC_TOOL.len()] {
        let mut acc = AnthropicStream::new(AnswerLimits::default());
        let mut text = String::new();
        drive(ANTHROPIC_TOOL, piece, &mut |d| {
            acc.on_data(d, &mut |t| text.push_str(t)).expect("event")
        });
        let r = acc.finish().expect("complete");
        assert_eq!(text, "I'll check the current weather in Paris for you.");
        let calls = r.tool_uses();
        assert_eq!(calls[0].name, "get_weather");
        assert_eq!(calls[0].arguments, r#"{"location":"Paris"}"#);
    }
}

fn tool_arguments_are_validated_before_the_device_runs() {
    let fan = Cell::new(-1.0f64);
    let mut reg = ToolRegistry::new(4);
    builtins::set_actuator(
        &mut reg,
        &[Actuator {
            name: "fan",
            min: 0.0,
            max: 3000.0,
        }],
        |_, v| {
            fan.set(v);
            Ok(())
        },
    )
    .expect("declare");
    let (_, st) = reg.dispatch("set_actuator", r#"{"actuator":"fan","value":5000}"#);
    assert!(
        matches!(st, CallStatus::Rejected(ToolError::Invalid(ref e)) if e.violation == Violation::OutOfRange)
    );
    let (_, st) = reg.dispatch("set_actuator", r#"{"actuator":"heater","value":1}"#);
    assert!(
        matches!(st, CallStatus::Rejected(ToolError::Invalid(ref e)) if e.violation == Violation::NotInEnum)
    );
    let (_, st) = reg.dispatch(
        "set_actuator",
        r#"{"actuator":"fan","value":1,"force":true}"#,
    );
    assert!(matches!(st, CallStatus::Rejected(ToolError::Invalid(_))));
    let (_, st) = reg.dispatch("self_destruct", "{}");
    assert!(matches!(
        st,
        CallStatus::Rejected(ToolError::UnknownTool(_))
    ));
    assert_eq!(fan.get(), -1.0, "no rejected call reached the device");
    let (out, st) = reg.dispatch("set_actuator", r#"{"actuator":"fan","value":1200}"#);
    assert_eq!(st, CallStatus::Ok);
    assert_eq!(fan.get(), 1200.0);
    assert!(out.contains("1200"));
    assert_eq!(reg.calls_total(), 5);
}

fn structured_decision_parses_or_is_rejected() {
    let d: Diagnosis =
        parse_decision(r#"{"severity":"critical","cause":"bearing seizure","action":"shutdown"}"#)
            .expect("valid");
    assert_eq!(d.severity, Severity::Critical);
    assert!(parse_decision::<Diagnosis>(r#"{"severity":"critical","cause":"x"}"#).is_err());
    assert!(parse_decision::<Diagnosis>("not json").is_err());
}

fn heap_is_returned() {
    assert_eq!(ioto_board_qemu::heap::used(), 0);
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(48 * 1024);
    let suite = tests![
        openai_parallel_tool_calls_stream,
        anthropic_tool_use_stream,
        tool_arguments_are_validated_before_the_device_runs,
        structured_decision_parses_or_is_rejected,
        heap_is_returned,
    ];
    harness::run("cloud", suite)
}
