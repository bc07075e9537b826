//! OpenAI Chat Completions (`POST /chat/completions`): request building and the
//! non-streaming response. Works with any OpenAI-compatible server.

use crate::api::{ModelAnswer, ModelRequest};
use crate::chat_stream::ChatStream;
use crate::error::{Error, bounded};
use crate::structured::ResponseFormat;
use crate::tools::ToolRegistry;
use crate::types::{FinishReason, ToolCall, Usage};
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// One message of the conversation.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatMessage {
    /// System prompt.
    System(String),
    /// Developer instructions (newer models).
    Developer(String),
    /// User text.
    User(String),
    /// An earlier assistant turn (text and/or tool calls).
    Assistant {
        /// Text, if any.
        content: Option<String>,
        /// Tool calls the assistant made.
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call.
    Tool {
        /// The `tool_call_id` being answered.
        call_id: String,
        /// The result text.
        content: String,
    },
}

impl ChatMessage {
    fn to_json(&self) -> Value {
        match self {
            Self::System(t) => json!({"role": "system", "content": t}),
            Self::Developer(t) => json!({"role": "developer", "content": t}),
            Self::User(t) => json!({"role": "user", "content": t}),
            Self::Assistant {
                content,
                tool_calls,
            } => {
                let mut m = Map::new();
                m.insert("role".into(), "assistant".into());
                m.insert(
                    "content".into(),
                    content.clone().map_or(Value::Null, Value::String),
                );
                if !tool_calls.is_empty() {
                    let calls: Vec<Value> = tool_calls
                        .iter()
                        .map(|c| {
                            json!({"id": c.id, "type": "function",
                                   "function": {"name": c.name, "arguments": c.arguments}})
                        })
                        .collect();
                    m.insert("tool_calls".into(), calls.into());
                }
                Value::Object(m)
            }
            Self::Tool { call_id, content } => {
                json!({"role": "tool", "tool_call_id": call_id, "content": content})
            }
        }
    }
}

/// A Chat Completions request.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    /// Model name.
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Output token cap.
    pub max_tokens: Option<u32>,
    /// Send the cap as the older `max_tokens` (some compatible servers) instead of
    /// `max_completion_tokens`.
    pub legacy_max_tokens: bool,
    /// Structured-output format.
    pub response_format: Option<ResponseFormat>,
    /// Whether the model may call several tools at once (`None`: server default).
    pub parallel_tool_calls: Option<bool>,
}

impl ChatRequest {
    /// A request for `model` with no messages yet.
    pub fn new(model: &str) -> Self {
        Self {
            model: model.into(),
            messages: Vec::new(),
            temperature: None,
            max_tokens: None,
            legacy_max_tokens: false,
            response_format: None,
            parallel_tool_calls: None,
        }
    }

    /// Appends a message.
    pub fn message(mut self, m: ChatMessage) -> Self {
        self.messages.push(m);
        self
    }

    /// Sets the output token cap.
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// Sets the temperature.
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = Some(t);
        self
    }

    /// Asks for a JSON answer matching `format`.
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = Some(format);
        self
    }
}

/// `POST /chat/completions`; a stream asks for a final usage chunk.
impl ModelRequest for ChatRequest {
    type Answer = ChatCompletion;
    type Stream = ChatStream;
    const PATH: &'static str = "/chat/completions";

    fn to_json(&self, tools: Option<&ToolRegistry<'_>>, stream: bool) -> Value {
        let mut m = Map::new();
        m.insert("model".into(), self.model.clone().into());
        let msgs: Vec<Value> = self.messages.iter().map(ChatMessage::to_json).collect();
        m.insert("messages".into(), msgs.into());
        if let Some(t) = self.temperature {
            m.insert("temperature".into(), t.into());
        }
        if let Some(n) = self.max_tokens {
            let key = if self.legacy_max_tokens {
                "max_tokens"
            } else {
                "max_completion_tokens"
            };
            m.insert(key.into(), n.into());
        }
        if let Some(reg) = tools.filter(|r| !r.is_empty()) {
            m.insert("tools".into(), reg.chat_tools());
            if let Some(p) = self.parallel_tool_calls {
                m.insert("parallel_tool_calls".into(), p.into());
            }
        }
        if let Some(f) = &self.response_format {
            m.insert("response_format".into(), f.chat_json());
        }
        if stream {
            m.insert("stream".into(), true.into());
            m.insert("stream_options".into(), json!({"include_usage": true}));
        }
        Value::Object(m)
    }

    fn max_output_tokens(&self) -> Option<u32> {
        self.max_tokens
    }

    fn parse(body: &[u8]) -> Result<ChatCompletion, Error> {
        let w: WireCompletion =
            serde_json::from_slice(body).map_err(|_| Error::Json("chat.completion"))?;
        let choice = w
            .choices
            .into_iter()
            .next()
            .ok_or(Error::Json("no choices"))?;
        Ok(ChatCompletion {
            id: bounded(&w.id, 128),
            content: choice.message.content.unwrap_or_default(),
            refusal: choice.message.refusal,
            tool_calls: choice
                .message
                .tool_calls
                .unwrap_or_default()
                .into_iter()
                .map(|c| ToolCall {
                    id: c.id,
                    name: c.function.name,
                    arguments: c.function.arguments,
                })
                .collect(),
            finish_reason: choice
                .finish_reason
                .as_deref()
                .map_or(FinishReason::Unknown, FinishReason::from_wire),
            usage: w.usage.map(Usage::from),
        })
    }
}

/// A finished Chat Completions answer (first choice).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ChatCompletion {
    /// Completion id.
    pub id: String,
    /// Assistant text (empty when only tools were called).
    pub content: String,
    /// Refusal text, when the model refused.
    pub refusal: Option<String>,
    /// Tool calls, in index order.
    pub tool_calls: Vec<ToolCall>,
    /// Why it stopped.
    pub finish_reason: FinishReason,
    /// Token usage, when reported.
    pub usage: Option<Usage>,
}

impl ModelAnswer for ChatCompletion {
    fn text(&self) -> String {
        self.content.clone()
    }

    fn tool_calls(&self) -> Vec<ToolCall> {
        self.tool_calls.clone()
    }

    fn refusal(&self) -> Option<String> {
        self.refusal.clone()
    }

    fn usage(&self) -> Option<Usage> {
        self.usage
    }
}

impl ChatCompletion {
    /// The assistant message to append to the conversation before tool results.
    pub fn to_message(&self) -> ChatMessage {
        ChatMessage::Assistant {
            content: (!self.content.is_empty()).then(|| self.content.clone()),
            tool_calls: self.tool_calls.clone(),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub(crate) prompt_tokens: u32,
    #[serde(default)]
    pub(crate) completion_tokens: u32,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
        }
    }
}

#[derive(Deserialize)]
struct WireFunction {
    #[serde(default)]
    name: String,
    #[serde(default)]
    arguments: String,
}

#[derive(Deserialize)]
struct WireToolCall {
    #[serde(default)]
    id: String,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireMessage {
    content: Option<String>,
    refusal: Option<String>,
    tool_calls: Option<Vec<WireToolCall>>,
}

#[derive(Deserialize)]
struct WireChoice {
    message: WireMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireCompletion {
    #[serde(default)]
    id: String,
    choices: Vec<WireChoice>,
    usage: Option<WireUsage>,
}
