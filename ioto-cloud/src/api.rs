//! The model APIs as one trait each for the request, the answer and the stream.
//!
//! A request type names its API: the path it is sent to, how its JSON body is built,
//! the answer a whole body parses into and the accumulator that builds the same answer
//! from a stream. [`Client::call`] and [`Client::stream`] speak every API through
//! [`ModelRequest`]; the tool loops and the advisor read every answer through
//! [`ModelAnswer`].
//!
//! | request | path | answer | stream accumulator |
//! |---|---|---|---|
//! | [`ChatRequest`] | `/chat/completions` | [`ChatCompletion`] | [`ChatStream`] |
//! | [`ResponsesRequest`] | `/responses` | [`ResponseObject`] | [`ResponsesStream`] |
//! | [`AnthropicRequest`] | `/v1/messages` | [`AnthropicResponse`] | [`AnthropicStream`] |
//!
//! [`Client::call`]: crate::client::Client::call
//! [`Client::stream`]: crate::client::Client::stream
//! [`ChatRequest`]: crate::chat::ChatRequest
//! [`ChatCompletion`]: crate::chat::ChatCompletion
//! [`ChatStream`]: crate::chat_stream::ChatStream
//! [`ResponsesRequest`]: crate::responses::ResponsesRequest
//! [`ResponseObject`]: crate::responses::ResponseObject
//! [`ResponsesStream`]: crate::responses_stream::ResponsesStream
//! [`AnthropicRequest`]: crate::anthropic::AnthropicRequest
//! [`AnthropicResponse`]: crate::anthropic::AnthropicResponse
//! [`AnthropicStream`]: crate::anthropic_stream::AnthropicStream

use crate::error::Error;
use crate::tools::ToolRegistry;
use crate::types::{AnswerLimits, ToolCall, Usage};
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::Value;

/// A request of one model API.
pub trait ModelRequest {
    /// The finished answer.
    type Answer: ModelAnswer;
    /// Builds [`Self::Answer`] from the events of a streamed answer.
    type Stream: StreamAccumulator<Answer = Self::Answer>;
    /// Path under the endpoint's base path.
    const PATH: &'static str;

    /// The JSON body. `tools` adds the registry's functions; `stream` asks for SSE.
    fn to_json(&self, tools: Option<&ToolRegistry<'_>>, stream: bool) -> Value;

    /// The output token cap the request sets, if any (the budget reserves it).
    fn max_output_tokens(&self) -> Option<u32>;

    /// Parses a whole (non-streamed) answer body.
    fn parse(body: &[u8]) -> Result<Self::Answer, Error>;
}

/// What every API's finished answer tells the code above the client.
pub trait ModelAnswer {
    /// The answer's text (all text parts, concatenated).
    fn text(&self) -> String;
    /// The function calls the model asked for, in the answer's order.
    fn tool_calls(&self) -> Vec<ToolCall>;
    /// The refusal text, when the model refused.
    fn refusal(&self) -> Option<String>;
    /// Token usage, when reported.
    fn usage(&self) -> Option<Usage>;
}

/// Accumulates one streamed answer from the `data` of its SSE events.
pub trait StreamAccumulator: Sized {
    /// The answer it builds.
    type Answer;

    /// A fresh accumulator holding at most what `limits` allow.
    fn new(limits: AnswerLimits) -> Self;

    /// Feeds the `data` of one SSE event; `on_text` receives each text delta.
    fn on_data(&mut self, data: &[u8], on_text: &mut dyn FnMut(&str)) -> Result<(), Error>;

    /// True once the stream's terminal event arrived (nothing more is read).
    fn is_done(&self) -> bool;

    /// The finished answer; [`Error::StreamIncomplete`] when the stream ended before
    /// it was complete.
    fn finish(self) -> Result<Self::Answer, Error>;
}
