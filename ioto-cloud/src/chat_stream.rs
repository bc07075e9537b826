//! Streaming Chat Completions: accumulates `chat.completion.chunk` events (content and
//! refusal deltas, tool-call argument deltas per `index`, parallel calls,
//! `finish_reason`, the final usage chunk) into a [`ChatCompletion`], handing each
//! text delta to a callback as it arrives.

use crate::api::StreamAccumulator;
use crate::chat::{ChatCompletion, WireUsage};
use crate::error::{Error, bounded};
use crate::types::{AnswerLimits, FinishReason, ToolCall, Usage};
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;

#[derive(Deserialize)]
struct ChunkFunction {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct ChunkToolCall {
    index: usize,
    id: Option<String>,
    function: Option<ChunkFunction>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
    refusal: Option<String>,
    tool_calls: Option<Vec<ChunkToolCall>>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    index: u32,
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    id: String,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<WireUsage>,
    error: Option<serde_json::Value>,
}

/// Accumulates one streamed Chat Completions answer.
#[derive(Debug, Default)]
pub struct ChatStream {
    limits: AnswerLimits,
    out: ChatCompletion,
    indices: Vec<usize>,
    done: bool,
}

/// Done at `data: [DONE]`; complete with it or with a `finish_reason`.
impl StreamAccumulator for ChatStream {
    type Answer = ChatCompletion;

    fn new(limits: AnswerLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    fn on_data(&mut self, data: &[u8], on_text: &mut dyn FnMut(&str)) -> Result<(), Error> {
        if data.trim_ascii() == b"[DONE]" {
            self.done = true;
            return Ok(());
        }
        if self.done {
            return Err(Error::Json("data after [DONE]"));
        }
        let chunk: Chunk =
            serde_json::from_slice(data).map_err(|_| Error::Json("chat.completion.chunk"))?;
        if let Some(e) = chunk.error {
            return Err(api_error(&e));
        }
        if self.out.id.is_empty() {
            self.out.id = bounded(&chunk.id, 128);
        }
        if let Some(u) = chunk.usage {
            self.out.usage = Some(Usage::from(u));
        }
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(r) = choice.finish_reason {
                self.out.finish_reason = FinishReason::from_wire(&r);
            }
            let Some(delta) = choice.delta else { continue };
            if let Some(t) = delta.content.filter(|t| !t.is_empty()) {
                self.limits.push_text(&mut self.out.content, &t)?;
                on_text(&t);
            }
            if let Some(r) = delta.refusal.filter(|r| !r.is_empty()) {
                let refusal = self.out.refusal.get_or_insert_with(String::new);
                self.limits.push_text(refusal, &r)?;
            }
            for tc in delta.tool_calls.unwrap_or_default() {
                self.tool_delta(tc)?;
            }
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }

    /// The accumulated answer; tool calls sorted by index. Fails if the stream ended
    /// with neither `[DONE]` nor a `finish_reason` (a cut or truncated stream).
    fn finish(mut self) -> Result<ChatCompletion, Error> {
        if !self.done && self.out.finish_reason == FinishReason::Unknown {
            return Err(Error::StreamIncomplete);
        }
        let mut pairs: Vec<(usize, ToolCall)> =
            self.indices.into_iter().zip(self.out.tool_calls).collect();
        pairs.sort_by_key(|(i, _)| *i);
        self.out.tool_calls = pairs.into_iter().map(|(_, c)| c).collect();
        Ok(self.out)
    }
}

impl ChatStream {
    fn tool_delta(&mut self, tc: ChunkToolCall) -> Result<(), Error> {
        let slot = match self.indices.iter().position(|&i| i == tc.index) {
            Some(s) => s,
            None => {
                if self.indices.len() >= self.limits.max_tool_calls {
                    return Err(Error::LimitExceeded("tool calls"));
                }
                self.indices.push(tc.index);
                self.out.tool_calls.push(ToolCall::default());
                self.indices.len() - 1
            }
        };
        let call = &mut self.out.tool_calls[slot];
        if let Some(id) = tc.id {
            call.id = bounded(&id, 128);
        }
        if let Some(f) = tc.function {
            if let Some(n) = f.name {
                call.name = crate::tools::call_name(&n);
            }
            if let Some(a) = f.arguments {
                self.limits.push_args(&mut call.arguments, &a)?;
            }
        }
        Ok(())
    }
}

/// An `{"error": {...}}` object (OpenAI style) as an [`Error::Api`], with the server's
/// whole text: the client scrubs the key out of it before bounding it
/// ([`Error::scrubbed`]), so no cut can leave part of a key behind.
pub(crate) fn api_error(e: &serde_json::Value) -> Error {
    let field = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let code = if field("code").is_empty() {
        field("type")
    } else {
        field("code")
    };
    Error::Api {
        code: String::from(code),
        message: String::from(field("message")),
    }
}
