//! Streaming Responses: `response.output_text.delta`, `response.function_call_arguments.delta`
//! / `.done`, `response.output_item.done`, `response.completed` / `.incomplete` /
//! `.failed` and `error`, checked to arrive in `sequence_number` order.

use crate::api::StreamAccumulator;
use crate::chat_stream::api_error;
use crate::error::{Error, bounded};
use crate::responses::ResponseObject;
use crate::types::AnswerLimits;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    sequence_number: Option<u64>,
    delta: Option<String>,
    item_id: Option<String>,
    arguments: Option<String>,
    item: Option<Value>,
    response: Option<Value>,
    code: Option<Value>,
    message: Option<String>,
}

/// Accumulates one streamed response.
#[derive(Debug, Default)]
pub struct ResponsesStream {
    limits: AnswerLimits,
    last_seq: Option<u64>,
    text: String,
    /// (item_id, arguments so far)
    args: Vec<(String, String)>,
    items: Vec<Value>,
    result: Option<ResponseObject>,
}

/// Done at `response.completed` / `.incomplete`; `response.failed` and `error` are
/// errors.
impl StreamAccumulator for ResponsesStream {
    type Answer = ResponseObject;

    fn new(limits: AnswerLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    fn on_data(&mut self, data: &[u8], on_text: &mut dyn FnMut(&str)) -> Result<(), Error> {
        let ev: Event =
            serde_json::from_slice(data).map_err(|_| Error::Json("response stream event"))?;
        if let Some(seq) = ev.sequence_number {
            if let Some(last) = self.last_seq.filter(|&l| seq <= l) {
                return Err(Error::OutOfOrder { last, got: seq });
            }
            self.last_seq = Some(seq);
        }
        match ev.kind.as_str() {
            "response.output_text.delta" => {
                let d = ev.delta.unwrap_or_default();
                self.limits.push_text(&mut self.text, &d)?;
                on_text(&d);
            }
            "response.function_call_arguments.delta" => {
                let limits = self.limits;
                let slot = self.args_slot(ev.item_id.unwrap_or_default())?;
                limits.push_args(&mut slot.1, &ev.delta.unwrap_or_default())?;
            }
            "response.function_call_arguments.done" => {
                let limits = self.limits;
                let slot = self.args_slot(ev.item_id.unwrap_or_default())?;
                let full = ev.arguments.unwrap_or_default();
                slot.1.clear();
                limits.push_args(&mut slot.1, &full)?;
            }
            "response.output_item.done" => {
                if let Some(item) = ev.item {
                    if self.items.len() >= 64 {
                        return Err(Error::LimitExceeded("output items"));
                    }
                    self.items.push(item);
                }
            }
            "response.completed" | "response.incomplete" => {
                let v = ev
                    .response
                    .ok_or(Error::Json("terminal event without response"))?;
                let mut r = ResponseObject::from_value(v)?;
                if r.output.is_empty() {
                    r.output = core::mem::take(&mut self.items);
                }
                self.result = Some(r);
            }
            "response.failed" => {
                let err = ev.response.as_ref().and_then(|r| r.get("error")).cloned();
                return Err(err.map_or(
                    Error::Api {
                        code: "failed".into(),
                        message: String::new(),
                    },
                    |e| api_error(&e),
                ));
            }
            "error" => {
                // Whole server text: the client scrubs, then bounds it.
                let code = match ev.code {
                    Some(Value::String(s)) => s,
                    _ => String::from("error"),
                };
                return Err(Error::Api {
                    code,
                    message: ev.message.unwrap_or_default(),
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.result.is_some()
    }

    /// The final response. Fails if no terminal event arrived.
    fn finish(self) -> Result<ResponseObject, Error> {
        self.result.ok_or(Error::StreamIncomplete)
    }
}

impl ResponsesStream {
    /// Text streamed so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn args_slot(&mut self, item_id: String) -> Result<&mut (String, String), Error> {
        let pos = match self.args.iter().position(|(id, _)| *id == item_id) {
            Some(p) => p,
            None => {
                if self.args.len() >= self.limits.max_tool_calls {
                    return Err(Error::LimitExceeded("tool calls"));
                }
                self.args.push((bounded(&item_id, 128), String::new()));
                self.args.len() - 1
            }
        };
        Ok(&mut self.args[pos])
    }

    /// Streamed arguments of function-call item `item_id` so far.
    pub fn arguments(&self, item_id: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(id, _)| id == item_id)
            .map(|(_, a)| a.as_str())
    }
}
