//! Recorded real streams parse to the right results when fed whole, in 1-byte pieces
//! and in random-size pieces.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use ioto_cloud::anthropic::AnthropicResponse;
use ioto_cloud::anthropic_stream::AnthropicStream;
use ioto_cloud::api::{ModelAnswer, StreamAccumulator};
use ioto_cloud::chat::ChatCompletion;
use ioto_cloud::chat_stream::ChatStream;
use ioto_cloud::types::{AnswerLimits, FinishReason, ToolCall, Usage};
use ioto_transport::sse::SseParser;

/// Splits `bytes` into pieces: whole, 1-byte, or pseudo-random sizes 1..=64.
fn pieces(bytes: &[u8], mode: u64) -> Vec<&[u8]> {
    match mode {
        0 => vec![bytes],
        1 => bytes.chunks(1).collect(),
        seed => {
            let mut out = Vec::new();
            let mut state = seed;
            let mut rest = bytes;
            while !rest.is_empty() {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let n = (((state >> 33) % 64) as usize + 1).min(rest.len());
                out.push(&rest[..n]);
                rest = &rest[n..];
            }
            out
        }
    }
}

/// Feeds the stream through an SSE parser (512-byte buffer) to `on_data`; returns the
/// concatenation of what the text callback saw.
type OnData<'a> = dyn FnMut(&[u8], &mut dyn FnMut(&str)) + 'a;

fn drive(bytes: &[u8], mode: u64, on_data: &mut OnData<'_>) -> String {
    let mut buf = [0u8; 512];
    let mut parser = SseParser::new(&mut buf);
    let mut streamed = String::new();
    let mut on_text = |t: &str| streamed.push_str(t);
    for piece in pieces(bytes, mode) {
        let mut input = piece;
        while !input.is_empty() {
            let fed = parser.feed(input).unwrap();
            input = &input[fed.consumed..];
            if let Some(ev) = parser.event() {
                on_data(ev.data, &mut on_text);
            }
        }
    }
    if parser.finish().unwrap() {
        on_data(parser.event().unwrap().data, &mut on_text);
    }
    streamed
}

const MODES: [u64; 6] = [0, 1, 7, 42, 1234, 99_999];

fn chat(name: &str, mode: u64) -> (ChatCompletion, String) {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut acc = ChatStream::new(AnswerLimits::default());
    let streamed = drive(&bytes, mode, &mut |d, t| acc.on_data(d, t).unwrap());
    (acc.finish().unwrap(), streamed)
}

fn anthropic(name: &str, mode: u64) -> (AnthropicResponse, String) {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/anthropic/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut acc = AnthropicStream::new(AnswerLimits::default());
    let streamed = drive(&bytes, mode, &mut |d, t| acc.on_data(d, t).unwrap());
    (acc.finish().unwrap(), streamed)
}

fn usage(i: u32, o: u32) -> Option<Usage> {
    Some(Usage {
        input_tokens: i,
        output_tokens: o,
    })
}

#[test]
fn chat_text() {
    let text = "I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or a weather app.";
    for mode in MODES {
        let (c, streamed) = chat("chat_stream_text.sse", mode);
        assert_eq!(c.content, text, "mode {mode}");
        assert_eq!(streamed, text);
        assert_eq!(c.finish_reason, FinishReason::Stop);
        assert_eq!(c.usage, usage(14, 30));
        assert_eq!(c.id, "chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL");
        assert!(c.tool_calls.is_empty() && c.refusal.is_none());
    }
}

#[test]
fn chat_tool_call() {
    for mode in MODES {
        let (c, _) = chat("chat_stream_tool_call.sse", mode);
        assert_eq!(
            c.tool_calls,
            vec![ToolCall {
                id: "call_c91SqDXlYFuETYv8mUHzz6pp".into(),
                name: "GetWeatherArgs".into(),
                arguments: r#"{"city":"Edinburgh","country":"UK","units":"c"}"#.into(),
            }]
        );
        assert_eq!(c.finish_reason, FinishReason::ToolCalls);
        assert_eq!(c.usage, usage(76, 24));
        assert_eq!(c.content, "");
    }
}

#[test]
fn chat_parallel_tool_calls() {
    for mode in MODES {
        let (c, _) = chat("chat_stream_parallel_tool_calls.sse", mode);
        assert_eq!(c.tool_calls.len(), 2);
        assert_eq!(c.tool_calls[0].id, "call_JMW1whyEaYG438VE1OIflxA2");
        assert_eq!(c.tool_calls[0].name, "GetWeatherArgs");
        assert_eq!(
            c.tool_calls[0].arguments,
            r#"{"city": "Edinburgh", "country": "GB", "units": "c"}"#
        );
        assert_eq!(c.tool_calls[1].id, "call_DNYTawLBoN8fj3KN6qU9N1Ou");
        assert_eq!(c.tool_calls[1].name, "get_stock_price");
        assert_eq!(
            c.tool_calls[1].arguments,
            r#"{"ticker": "AAPL", "exchange": "NASDAQ"}"#
        );
        assert_eq!(c.finish_reason, FinishReason::ToolCalls);
        assert_eq!(c.usage, usage(149, 60));
    }
}

#[test]
fn chat_refusal() {
    for mode in MODES {
        let (c, streamed) = chat("chat_stream_refusal.sse", mode);
        assert_eq!(
            c.refusal.as_deref(),
            Some("I'm sorry, I can't assist with that request.")
        );
        assert_eq!(c.content, "");
        assert_eq!(streamed, "");
        assert_eq!(c.finish_reason, FinishReason::Stop);
        assert_eq!(c.usage, usage(79, 11));
    }
}

#[test]
fn chat_length_with_usage_chunk() {
    for mode in MODES {
        let (c, _) = chat("chat_stream_finish_length_usage.sse", mode);
        assert_eq!(c.content, "{\"");
        assert_eq!(c.finish_reason, FinishReason::Length);
        assert_eq!(c.usage, usage(79, 1));
    }
}

#[test]
fn anthropic_text() {
    for mode in MODES {
        let (r, streamed) = anthropic("messages_stream_basic_text.sse", mode);
        assert_eq!(r.text(), "Hello there!");
        assert_eq!(streamed, "Hello there!");
        assert_eq!(r.stop_reason, FinishReason::Stop);
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 11,
                output_tokens: 6
            }
        );
        assert_eq!(r.id, "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK");
    }
}

#[test]
fn anthropic_tool_use() {
    for mode in MODES {
        let (r, streamed) = anthropic("messages_stream_tool_use.sse", mode);
        assert_eq!(streamed, "I'll check the current weather in Paris for you.");
        let calls = r.tool_uses();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].id, "toolu_01NRLabsLyVHZPKxbKvkfSMn");
        assert_eq!(calls[0].name, "get_weather");
        assert_eq!(calls[0].arguments, r#"{"location":"Paris"}"#);
        assert_eq!(r.stop_reason, FinishReason::ToolCalls);
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 377,
                output_tokens: 65
            }
        );
        // The assistant turn sent back keeps the block verbatim (caller field included).
        assert_eq!(r.to_message().content[1]["caller"]["type"], "direct");
    }
}

#[test]
fn cut_stream_is_incomplete_not_a_partial_answer() {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/chat_stream_tool_call.sse",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let cut = &bytes[..bytes.len() / 2];
    let mut acc = ChatStream::new(AnswerLimits::default());
    drive(cut, 0, &mut |d, t| {
        // The cut may land mid-event; the parser's `finish` then hands over a
        // truncated JSON line, which must be rejected as bad JSON, never a panic.
        let _ = acc.on_data(d, t);
    });
    assert_eq!(acc.finish(), Err(ioto_cloud::Error::StreamIncomplete));
}

#[test]
fn text_limit_is_enforced_while_streaming() {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/chat_stream_text.sse",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let limits = AnswerLimits {
        max_text: 40,
        ..AnswerLimits::default()
    };
    let mut acc = ChatStream::new(limits);
    let mut first_err = None;
    drive(&bytes, 0, &mut |d, t| {
        if let Err(e) = acc.on_data(d, t) {
            first_err.get_or_insert(e);
        }
    });
    assert_eq!(
        first_err,
        Some(ioto_cloud::Error::LimitExceeded("answer text"))
    );
    // Without keeping the text, the whole answer streams through a tiny accumulator.
    let mut acc = ChatStream::new(AnswerLimits {
        max_text: 40,
        keep_text: false,
        ..AnswerLimits::default()
    });
    let streamed = drive(&bytes, 1, &mut |d, t| acc.on_data(d, t).unwrap());
    assert_eq!(streamed.len(), 159);
    assert_eq!(acc.finish().unwrap().content, "");
}
