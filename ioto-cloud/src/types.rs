//! Small types every API shares: a tool call, token usage, why an answer stopped.

use alloc::string::String;
use serde::Deserialize;

/// One function call requested by the model.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ToolCall {
    /// The id to answer with (`call_id` / `tool_call_id` / `tool_use_id`).
    pub id: String,
    /// Function name.
    pub name: String,
    /// Arguments as the model sent them (JSON text, not yet validated).
    pub arguments: String,
}

/// Tokens used by one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
pub struct Usage {
    /// Prompt / input tokens.
    pub input_tokens: u32,
    /// Completion / output tokens.
    pub output_tokens: u32,
}

impl Usage {
    /// Input + output.
    pub fn total(&self) -> u32 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// Why the model stopped.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum FinishReason {
    /// Natural end (`stop`, `end_turn`, `completed`).
    Stop,
    /// Token limit reached (`length`, `max_tokens`, `max_output_tokens`).
    Length,
    /// The model wants tools run (`tool_calls`, `tool_use`).
    ToolCalls,
    /// Filtered or refused (`content_filter`, `refusal`).
    ContentFilter,
    /// Some other reason, verbatim.
    Other(String),
    /// Not reported (stream cut or server omitted it).
    #[default]
    Unknown,
}

impl FinishReason {
    /// Maps the wire strings of all three APIs.
    pub fn from_wire(s: &str) -> Self {
        match s {
            "stop" | "end_turn" | "stop_sequence" | "completed" => Self::Stop,
            "length" | "max_tokens" | "max_output_tokens" => Self::Length,
            "tool_calls" | "tool_use" | "function_call" => Self::ToolCalls,
            "content_filter" | "refusal" => Self::ContentFilter,
            other => Self::Other(crate::error::bounded(other, 64)),
        }
    }
}

/// Caps on what one answer may accumulate in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnswerLimits {
    /// Text kept for the final result (bytes). Streamed text beyond it is still
    /// delivered to the callback when `keep_text` is false.
    pub max_text: usize,
    /// Keep the streamed text in the result (false: only the callback sees it, so a
    /// long answer needs no buffer of its own size).
    pub keep_text: bool,
    /// Tool calls per answer.
    pub max_tool_calls: usize,
    /// Argument bytes per tool call.
    pub max_args: usize,
}

impl Default for AnswerLimits {
    fn default() -> Self {
        Self {
            max_text: 16 * 1024,
            keep_text: true,
            max_tool_calls: 8,
            max_args: crate::tools::MAX_ARGS_BYTES,
        }
    }
}

impl AnswerLimits {
    /// Appends streamed text to `out` within the limit.
    pub(crate) fn push_text(&self, out: &mut String, delta: &str) -> Result<(), crate::Error> {
        if !self.keep_text {
            return Ok(());
        }
        if out.len() + delta.len() > self.max_text {
            return Err(crate::Error::LimitExceeded("answer text"));
        }
        out.push_str(delta);
        Ok(())
    }

    /// Appends argument text within the limit.
    pub(crate) fn push_args(&self, out: &mut String, delta: &str) -> Result<(), crate::Error> {
        if out.len() + delta.len() > self.max_args {
            return Err(crate::Error::LimitExceeded("tool arguments"));
        }
        out.push_str(delta);
        Ok(())
    }
}
