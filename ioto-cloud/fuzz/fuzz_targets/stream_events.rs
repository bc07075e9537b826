//! Fuzzes the SSE-to-event path of the model clients: any bytes, cut into pieces at
//! fuzzer-chosen points, go through the SSE parser into the Chat Completions, Responses
//! or Anthropic stream accumulator (chosen by the first byte), as the client feeds them.
//! Every outcome must be a value or a typed error — no panic — and what an accepted
//! answer holds must stay inside the configured limits.
#![no_main]

use ioto_cloud::anthropic_stream::AnthropicStream;
use ioto_cloud::api::StreamAccumulator;
use ioto_cloud::chat_stream::ChatStream;
use ioto_cloud::responses_stream::ResponsesStream;
use ioto_cloud::types::AnswerLimits;
use ioto_transport::sse::SseParser;
use libfuzzer_sys::fuzz_target;

/// Small limits so the fuzzer reaches them.
const LIMITS: AnswerLimits = AnswerLimits {
    max_text: 64,
    keep_text: true,
    max_tool_calls: 3,
    max_args: 48,
};

enum Acc {
    Chat(ChatStream),
    Responses(ResponsesStream),
    Anthropic(AnthropicStream),
}

impl Acc {
    fn on_data(&mut self, data: &[u8], seen: &mut usize) -> bool {
        let mut on_text = |t: &str| *seen += t.len();
        match self {
            Acc::Chat(s) => data == b"[DONE]" || s.on_data(data, &mut on_text).is_ok(),
            Acc::Responses(s) => s.on_data(data, &mut on_text).is_ok(),
            Acc::Anthropic(s) => s.on_data(data, &mut on_text).is_ok(),
        }
    }

    fn check_finish(self) {
        match self {
            Acc::Chat(s) => {
                if let Ok(c) = s.finish() {
                    assert!(c.content.len() <= LIMITS.max_text);
                    assert!(c.tool_calls.len() <= LIMITS.max_tool_calls);
                    assert!(
                        c.tool_calls
                            .iter()
                            .all(|t| t.arguments.len() <= LIMITS.max_args)
                    );
                }
            }
            Acc::Responses(s) => {
                if let Ok(r) = s.finish() {
                    assert!(r.function_calls().len() <= LIMITS.max_tool_calls);
                }
            }
            Acc::Anthropic(s) => {
                if let Ok(m) = s.finish() {
                    let _ = m.tool_uses();
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut acc = match selector % 3 {
        0 => Acc::Chat(ChatStream::new(LIMITS)),
        1 => Acc::Responses(ResponsesStream::new(LIMITS)),
        _ => Acc::Anthropic(AnthropicStream::new(LIMITS)),
    };
    // Piece length from the selector's high bits: 1..=32 bytes per read.
    let piece = usize::from(selector >> 3) + 1;
    let mut buf = [0u8; 512];
    let mut parser = SseParser::new(&mut buf);
    let mut seen = 0usize;
    for chunk in rest.chunks(piece) {
        let mut input = chunk;
        while !input.is_empty() {
            let Ok(fed) = parser.feed(input) else {
                return;
            };
            input = &input[fed.consumed..];
            if let Some(ev) = parser.event()
                && !acc.on_data(ev.data, &mut seen)
            {
                return;
            }
        }
    }
    if let Ok(true) = parser.finish()
        && let Some(ev) = parser.event()
        && !acc.on_data(ev.data, &mut seen)
    {
        return;
    }
    acc.check_finish();
});
