//! Anthropic Messages (`POST /v1/messages`, headers `x-api-key` and
//! `anthropic-version`): request building, `tool_use` / `tool_result`, and the
//! non-streaming response.

use crate::anthropic_stream::AnthropicStream;
use crate::api::{ModelAnswer, ModelRequest};
use crate::error::{Error, bounded};
use crate::tools::ToolRegistry;
use crate::types::{FinishReason, ToolCall, Usage};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value, json};

/// The `anthropic-version` header value sent.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// One message: a role and its content blocks (kept as JSON so `tool_use`, thinking
/// and future block types go back to the model untouched).
#[derive(Clone, Debug, PartialEq)]
pub struct AnthropicMessage {
    /// `user` or `assistant`.
    pub role: &'static str,
    /// Content blocks.
    pub content: Vec<Value>,
}

impl AnthropicMessage {
    /// A user text message.
    pub fn user(text: &str) -> Self {
        Self {
            role: "user",
            content: alloc::vec![json!({"type": "text", "text": text})],
        }
    }

    /// A user message carrying `tool_result` blocks: (tool_use_id, content, is_error).
    pub fn tool_results(results: &[(String, String, bool)]) -> Self {
        Self {
            role: "user",
            content: results
                .iter()
                .map(|(id, content, is_error)| {
                    let mut b =
                        json!({"type": "tool_result", "tool_use_id": id, "content": content});
                    if *is_error && let Value::Object(m) = &mut b {
                        m.insert("is_error".into(), true.into());
                    }
                    b
                })
                .collect(),
        }
    }
}

/// A Messages request.
#[derive(Clone, Debug, PartialEq)]
pub struct AnthropicRequest {
    /// Model name.
    pub model: String,
    /// Output token cap (required by the API).
    pub max_tokens: u32,
    /// System prompt.
    pub system: Option<String>,
    /// The conversation.
    pub messages: Vec<AnthropicMessage>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
}

impl AnthropicRequest {
    /// A request for `model` with `max_tokens`.
    pub fn new(model: &str, max_tokens: u32) -> Self {
        Self {
            model: model.into(),
            max_tokens,
            system: None,
            messages: Vec::new(),
            temperature: None,
        }
    }

    /// Sets the system prompt.
    pub fn system(mut self, text: &str) -> Self {
        self.system = Some(text.into());
        self
    }

    /// Appends a message.
    pub fn message(mut self, m: AnthropicMessage) -> Self {
        self.messages.push(m);
        self
    }
}

/// `POST /v1/messages`.
impl ModelRequest for AnthropicRequest {
    type Answer = AnthropicResponse;
    type Stream = AnthropicStream;
    const PATH: &'static str = "/v1/messages";

    fn to_json(&self, tools: Option<&ToolRegistry<'_>>, stream: bool) -> Value {
        let mut m = Map::new();
        m.insert("model".into(), self.model.clone().into());
        m.insert("max_tokens".into(), self.max_tokens.into());
        if let Some(s) = &self.system {
            m.insert("system".into(), s.clone().into());
        }
        let msgs: Vec<Value> = self
            .messages
            .iter()
            .map(|msg| json!({"role": msg.role, "content": msg.content}))
            .collect();
        m.insert("messages".into(), msgs.into());
        if let Some(t) = self.temperature {
            m.insert("temperature".into(), t.into());
        }
        if let Some(reg) = tools.filter(|r| !r.is_empty()) {
            m.insert("tools".into(), reg.anthropic_tools());
        }
        if stream {
            m.insert("stream".into(), true.into());
        }
        Value::Object(m)
    }

    fn max_output_tokens(&self) -> Option<u32> {
        Some(self.max_tokens)
    }

    fn parse(body: &[u8]) -> Result<AnthropicResponse, Error> {
        let v: Value = serde_json::from_slice(body).map_err(|_| Error::Json("message"))?;
        if v["type"] == "error" {
            return Err(anthropic_error(&v["error"]));
        }
        let content = match &v["content"] {
            Value::Array(a) => a.clone(),
            _ => return Err(Error::Json("message.content")),
        };
        let u = &v["usage"];
        let tokens = |k: &str| {
            u[k].as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0)
        };
        Ok(AnthropicResponse {
            id: bounded(v["id"].as_str().unwrap_or_default(), 128),
            content,
            stop_reason: v["stop_reason"]
                .as_str()
                .map_or(FinishReason::Unknown, FinishReason::from_wire),
            usage: Usage {
                input_tokens: tokens("input_tokens"),
                output_tokens: tokens("output_tokens"),
            },
            invalid_inputs: Vec::new(),
        })
    }
}

/// A finished Messages answer.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AnthropicResponse {
    /// Message id.
    pub id: String,
    /// Content blocks, verbatim (tool_use `input` as an object).
    pub content: Vec<Value>,
    /// Why it stopped.
    pub stop_reason: FinishReason,
    /// Token usage.
    pub usage: Usage,
    /// Streamed `tool_use` blocks whose `input` JSON did not parse: `(block id, raw
    /// text)`. Their `input` in [`content`](Self::content) is `{}` so the message can
    /// still be sent back; [`tool_uses`](Self::tool_uses) hands the raw text to the
    /// registry, which rejects it and tells the model, instead of failing the stream.
    pub invalid_inputs: Vec<(String, String)>,
}

impl AnthropicResponse {
    /// Every `tool_use` block as a call (arguments = the `input` object as JSON text).
    pub fn tool_uses(&self) -> Vec<ToolCall> {
        self.content
            .iter()
            .filter(|b| b["type"] == "tool_use")
            .map(|b| {
                let id = b["id"].as_str().unwrap_or_default();
                let raw = self.invalid_inputs.iter().find(|(i, _)| i == id);
                ToolCall {
                    id: id.into(),
                    name: b["name"].as_str().unwrap_or_default().into(),
                    arguments: raw.map_or_else(|| b["input"].to_string(), |(_, r)| r.clone()),
                }
            })
            .collect()
    }

    /// The assistant message to append before the tool results.
    pub fn to_message(&self) -> AnthropicMessage {
        AnthropicMessage {
            role: "assistant",
            content: self.content.clone(),
        }
    }
}

/// Anthropic has no refusal part; usage is always reported.
impl ModelAnswer for AnthropicResponse {
    /// All text blocks concatenated.
    fn text(&self) -> String {
        self.content
            .iter()
            .filter(|b| b["type"] == "text")
            .map(|b| b["text"].as_str().unwrap_or_default())
            .collect()
    }

    fn tool_calls(&self) -> Vec<ToolCall> {
        self.tool_uses()
    }

    fn refusal(&self) -> Option<String> {
        None
    }

    fn usage(&self) -> Option<Usage> {
        Some(self.usage)
    }
}

/// An Anthropic `{"type": ..., "message": ...}` error object as [`Error::Api`], with
/// the server's whole text (the client scrubs, then bounds it: [`Error::scrubbed`]).
pub(crate) fn anthropic_error(e: &Value) -> Error {
    Error::Api {
        code: String::from(e["type"].as_str().unwrap_or("error")),
        message: String::from(e["message"].as_str().unwrap_or_default()),
    }
}
