//! Streaming Anthropic Messages: `message_start`, `content_block_start`,
//! `content_block_delta` (`text_delta`, `input_json_delta`), `content_block_stop`,
//! `message_delta`, `message_stop`, `ping` and mid-stream `error`.

use crate::anthropic::{AnthropicResponse, anthropic_error};
use crate::api::StreamAccumulator;
use crate::error::{Error, bounded};
use crate::types::{AnswerLimits, FinishReason};
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Value, json};

#[derive(Debug)]
struct Block {
    index: u64,
    start: Value,
    text: String,
    json: String,
}

/// Accumulates one streamed message.
#[derive(Debug, Default)]
pub struct AnthropicStream {
    limits: AnswerLimits,
    out: AnthropicResponse,
    blocks: Vec<Block>,
    done: bool,
}

/// Done and complete at `message_stop`.
impl StreamAccumulator for AnthropicStream {
    type Answer = AnthropicResponse;

    fn new(limits: AnswerLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    fn on_data(&mut self, data: &[u8], on_text: &mut dyn FnMut(&str)) -> Result<(), Error> {
        let v: Value =
            serde_json::from_slice(data).map_err(|_| Error::Json("message stream event"))?;
        let tokens = |u: &Value, k: &str| u[k].as_u64().and_then(|n| u32::try_from(n).ok());
        match v["type"].as_str().unwrap_or_default() {
            "message_start" => {
                let m = &v["message"];
                self.out.id = bounded(m["id"].as_str().unwrap_or_default(), 128);
                self.out.usage.input_tokens = tokens(&m["usage"], "input_tokens").unwrap_or(0);
                self.out.usage.output_tokens = tokens(&m["usage"], "output_tokens").unwrap_or(0);
            }
            "content_block_start" => {
                if self.blocks.len() >= 2 * self.limits.max_tool_calls + 8 {
                    return Err(Error::LimitExceeded("content blocks"));
                }
                self.blocks.push(Block {
                    index: v["index"].as_u64().unwrap_or(0),
                    start: v["content_block"].clone(),
                    text: String::new(),
                    json: String::new(),
                });
            }
            "content_block_delta" => {
                let idx = v["index"].as_u64().unwrap_or(0);
                let block = self
                    .blocks
                    .iter_mut()
                    .find(|b| b.index == idx)
                    .ok_or(Error::Json("delta for unknown block"))?;
                let d = &v["delta"];
                match d["type"].as_str().unwrap_or_default() {
                    "text_delta" => {
                        let t = d["text"].as_str().unwrap_or_default();
                        self.limits.push_text(&mut block.text, t)?;
                        on_text(t);
                    }
                    "input_json_delta" => {
                        let j = d["partial_json"].as_str().unwrap_or_default();
                        self.limits.push_args(&mut block.json, j)?;
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(r) = v["delta"]["stop_reason"].as_str() {
                    self.out.stop_reason = FinishReason::from_wire(r);
                }
                if let Some(n) = tokens(&v["usage"], "output_tokens") {
                    self.out.usage.output_tokens = n;
                }
            }
            "message_stop" => self.done = true,
            "error" => return Err(anthropic_error(&v["error"])),
            _ => {}
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }

    /// The final message with blocks assembled (tool `input` parsed from the
    /// concatenated `partial_json`; one that is not a JSON object is kept raw in
    /// [`AnthropicResponse::invalid_inputs`]). Fails if `message_stop` never came.
    fn finish(mut self) -> Result<AnthropicResponse, Error> {
        if !self.done {
            return Err(Error::StreamIncomplete);
        }
        self.blocks.sort_by_key(|b| b.index);
        for b in self.blocks {
            let mut block = b.start;
            match block["type"].as_str().unwrap_or_default() {
                "text" => block["text"] = Value::String(b.text),
                "tool_use" => {
                    let parsed = if b.json.trim().is_empty() {
                        Some(json!({}))
                    } else {
                        serde_json::from_str::<Value>(&b.json)
                            .ok()
                            .filter(Value::is_object)
                    };
                    block["input"] = match parsed {
                        Some(input) => input,
                        None => {
                            let id = String::from(block["id"].as_str().unwrap_or_default());
                            self.out.invalid_inputs.push((id, b.json));
                            json!({})
                        }
                    };
                }
                _ => {}
            }
            self.out.content.push(block);
        }
        Ok(self.out)
    }
}
