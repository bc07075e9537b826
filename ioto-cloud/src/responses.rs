//! OpenAI Responses API (`POST /responses`): request building and the response object.
//! Output items are kept as raw JSON so reasoning items (and anything newer than this
//! crate) pass back to the model untouched.

use crate::api::{ModelAnswer, ModelRequest};
use crate::error::{Error, bounded};
use crate::responses_stream::ResponsesStream;
use crate::structured::ResponseFormat;
use crate::tools::ToolRegistry;
use crate::types::{FinishReason, ToolCall, Usage};
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// One input item.
#[derive(Clone, Debug, PartialEq)]
pub enum InputItem {
    /// A message (`role`: `user`, `system`, `developer`, `assistant`).
    Message {
        /// Role.
        role: &'static str,
        /// Text.
        text: String,
    },
    /// The answer to one `function_call`.
    FunctionCallOutput {
        /// The `call_id` being answered.
        call_id: String,
        /// The result text.
        output: String,
    },
    /// An item passed through verbatim (earlier output: reasoning, function_call, …).
    Raw(Value),
}

impl InputItem {
    /// A user message.
    pub fn user(text: &str) -> Self {
        Self::Message {
            role: "user",
            text: text.into(),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Message { role, text } => {
                json!({"type": "message", "role": role, "content": text})
            }
            Self::FunctionCallOutput { call_id, output } => {
                json!({"type": "function_call_output", "call_id": call_id, "output": output})
            }
            Self::Raw(v) => v.clone(),
        }
    }
}

/// A Responses request.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponsesRequest {
    /// Model name.
    pub model: String,
    /// System-level instructions.
    pub instructions: Option<String>,
    /// Input items (only the new ones when `previous_response_id` is set).
    pub input: Vec<InputItem>,
    /// Continue from a stored response.
    pub previous_response_id: Option<String>,
    /// Whether the server stores the response (needed for `previous_response_id`).
    pub store: Option<bool>,
    /// Structured-output format (`text.format`).
    pub text_format: Option<ResponseFormat>,
    /// Output token cap.
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Whether the model may call several tools at once (`None`: server default).
    pub parallel_tool_calls: Option<bool>,
}

impl ResponsesRequest {
    /// A request for `model` with no input yet.
    pub fn new(model: &str) -> Self {
        Self {
            model: model.into(),
            instructions: None,
            input: Vec::new(),
            previous_response_id: None,
            store: None,
            text_format: None,
            max_output_tokens: None,
            temperature: None,
            parallel_tool_calls: None,
        }
    }

    /// Sets the instructions.
    pub fn instructions(mut self, text: &str) -> Self {
        self.instructions = Some(text.into());
        self
    }

    /// Appends an input item.
    pub fn input(mut self, item: InputItem) -> Self {
        self.input.push(item);
        self
    }

    /// Asks for a JSON answer matching `format`.
    pub fn text_format(mut self, format: ResponseFormat) -> Self {
        self.text_format = Some(format);
        self
    }
}

/// `POST /responses`.
impl ModelRequest for ResponsesRequest {
    type Answer = ResponseObject;
    type Stream = ResponsesStream;
    const PATH: &'static str = "/responses";

    fn to_json(&self, tools: Option<&ToolRegistry<'_>>, stream: bool) -> Value {
        let mut m = Map::new();
        m.insert("model".into(), self.model.clone().into());
        if let Some(i) = &self.instructions {
            m.insert("instructions".into(), i.clone().into());
        }
        let input: Vec<Value> = self.input.iter().map(InputItem::to_json).collect();
        m.insert("input".into(), input.into());
        if let Some(id) = &self.previous_response_id {
            m.insert("previous_response_id".into(), id.clone().into());
        }
        if let Some(s) = self.store {
            m.insert("store".into(), s.into());
        }
        if let Some(f) = &self.text_format {
            m.insert("text".into(), json!({"format": f.responses_json()}));
        }
        if let Some(n) = self.max_output_tokens {
            m.insert("max_output_tokens".into(), n.into());
        }
        if let Some(t) = self.temperature {
            m.insert("temperature".into(), t.into());
        }
        if let Some(reg) = tools.filter(|r| !r.is_empty()) {
            m.insert("tools".into(), reg.function_tools(true));
            if let Some(p) = self.parallel_tool_calls {
                m.insert("parallel_tool_calls".into(), p.into());
            }
        }
        if stream {
            m.insert("stream".into(), true.into());
        }
        Value::Object(m)
    }

    fn max_output_tokens(&self) -> Option<u32> {
        self.max_output_tokens
    }

    fn parse(body: &[u8]) -> Result<ResponseObject, Error> {
        let v: Value = serde_json::from_slice(body).map_err(|_| Error::Json("response"))?;
        ResponseObject::from_value(v)
    }
}

/// A response object (`"object": "response"`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ResponseObject {
    /// Response id (for `previous_response_id`).
    pub id: String,
    /// `completed`, `incomplete`, `failed`, …
    pub status: String,
    /// Output items, verbatim.
    pub output: Vec<Value>,
    /// Token usage.
    pub usage: Option<Usage>,
    /// Why it was incomplete (`max_output_tokens`, `content_filter`).
    pub incomplete_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
}

impl ResponseObject {
    /// Builds from a parsed `Response` JSON object.
    pub fn from_value(v: Value) -> Result<Self, Error> {
        let Value::Object(mut m) = v else {
            return Err(Error::Json("response is not an object"));
        };
        if let Some(e) = m.get("error").filter(|e| !e.is_null()) {
            return Err(crate::chat_stream::api_error(e));
        }
        let text = |m: &Map<String, Value>, k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .map(|s| bounded(s, 128))
                .unwrap_or_default()
        };
        let usage = m
            .remove("usage")
            .and_then(|u| serde_json::from_value::<WireUsage>(u).ok())
            .map(|u| Usage {
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
            });
        let incomplete_reason = m
            .get("incomplete_details")
            .and_then(|d| d.get("reason"))
            .and_then(Value::as_str)
            .map(|s| bounded(s, 64));
        let output = match m.remove("output") {
            Some(Value::Array(a)) => a,
            _ => return Err(Error::Json("response.output")),
        };
        Ok(Self {
            id: text(&m, "id"),
            status: text(&m, "status"),
            output,
            usage,
            incomplete_reason,
        })
    }

    /// All `output_text` parts of message items, concatenated.
    pub fn output_text(&self) -> String {
        let mut s = String::new();
        for item in self.output.iter().filter(|i| i["type"] == "message") {
            for part in item["content"].as_array().into_iter().flatten() {
                if part["type"] == "output_text" {
                    s.push_str(part["text"].as_str().unwrap_or_default());
                }
            }
        }
        s
    }

    /// Every `function_call` item, in output order.
    pub fn function_calls(&self) -> Vec<ToolCall> {
        self.output
            .iter()
            .filter(|i| i["type"] == "function_call")
            .map(|i| ToolCall {
                id: i["call_id"].as_str().unwrap_or_default().into(),
                name: i["name"].as_str().unwrap_or_default().into(),
                arguments: i["arguments"].as_str().unwrap_or_default().into(),
            })
            .collect()
    }

    /// Why it stopped.
    pub fn finish_reason(&self) -> FinishReason {
        if !self.function_calls().is_empty() {
            return FinishReason::ToolCalls;
        }
        match (self.status.as_str(), &self.incomplete_reason) {
            ("completed", _) => FinishReason::Stop,
            (_, Some(r)) => FinishReason::from_wire(r),
            (s, None) => FinishReason::from_wire(s),
        }
    }
}

impl ModelAnswer for ResponseObject {
    fn text(&self) -> String {
        self.output_text()
    }

    fn tool_calls(&self) -> Vec<ToolCall> {
        self.function_calls()
    }

    fn refusal(&self) -> Option<String> {
        self.output
            .iter()
            .filter(|i| i["type"] == "message")
            .flat_map(|i| i["content"].as_array().into_iter().flatten())
            .find(|p| p["type"] == "refusal")
            .map(|p| p["refusal"].as_str().unwrap_or_default().into())
    }

    fn usage(&self) -> Option<Usage> {
        self.usage
    }
}
