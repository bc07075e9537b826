//! Tool loops done right: every function call in an answer is executed (parallel
//! calls included), each is answered with its own output carrying the matching call
//! id, reasoning and other items are preserved, a tool error goes back to the model as
//! an error output, and the loop stops at an iteration cap and a total-time cap.

use crate::anthropic::{AnthropicMessage, AnthropicRequest, AnthropicResponse};
use crate::api::{ModelAnswer, ModelRequest};
use crate::chat::{ChatCompletion, ChatMessage, ChatRequest};
use crate::client::Client;
use crate::error::Error;
use crate::responses::{InputItem, ResponseObject, ResponsesRequest};
use crate::tools::{CallStatus, ToolRegistry};
use crate::transport::HttpTransport;
use crate::types::ToolCall;
use alloc::string::String;
use alloc::vec::Vec;
use embedded_hal_async::delay::DelayNs;
use ioto_core::{Clock, Instant};

/// How the Responses loop sends the next turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chaining {
    /// `previous_response_id` + only the new `function_call_output` items (needs
    /// `store`; the device sends only what is new).
    PreviousResponseId,
    /// Resend the conversation: every earlier output item verbatim (reasoning included)
    /// followed by the outputs (works with `store: false`).
    FullHistory,
}

/// Caps of one tool loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopCaps {
    /// Model calls at most (the first one included).
    pub max_iterations: u32,
    /// Wall time at most (ms).
    pub max_total_ms: u64,
    /// Stream the model's answers (text deltas go to the callback).
    pub stream: bool,
}

impl Default for LoopCaps {
    fn default() -> Self {
        Self {
            max_iterations: 6,
            max_total_ms: 120_000,
            stream: false,
        }
    }
}

/// One executed call: what the model asked and what it was told.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutedCall {
    /// The call.
    pub call: ToolCall,
    /// The output sent back.
    pub output: String,
    /// Whether it ran.
    pub status: CallStatus,
}

/// Runs every call through the registry, in order.
pub fn execute_all(tools: &mut ToolRegistry<'_>, calls: &[ToolCall]) -> Vec<ExecutedCall> {
    calls
        .iter()
        .map(|c| {
            let (output, status) = tools.dispatch(&c.name, &c.arguments);
            ExecutedCall {
                call: c.clone(),
                output,
                status,
            }
        })
        .collect()
}

/// Enforces [`LoopCaps`] across the iterations of one loop.
struct Guard {
    caps: LoopCaps,
    start: Instant,
    iteration: u32,
}

impl Guard {
    fn start(caps: LoopCaps, clock: &impl Clock) -> Self {
        Self {
            caps,
            start: clock.now(),
            iteration: 0,
        }
    }

    /// Admits one more model call, or says which cap it would break.
    fn next(&mut self, clock: &impl Clock) -> Result<(), Error> {
        if self.iteration >= self.caps.max_iterations {
            return Err(Error::IterationCap(self.caps.max_iterations));
        }
        if clock.now().micros_since(self.start) / 1000 > self.caps.max_total_ms {
            return Err(Error::TimeCap);
        }
        self.iteration += 1;
        Ok(())
    }
}

/// The loop every API shares: ask (streamed when `caps.stream`), run every call of
/// the answer, let `next` put the answer and the outputs into the request, repeat
/// until an answer calls no function.
async fn run<R: ModelRequest, T: HttpTransport, C: Clock, D: DelayNs>(
    client: &mut Client<T, C, D>,
    tools: &mut ToolRegistry<'_>,
    mut req: R,
    caps: LoopCaps,
    on_text: &mut dyn FnMut(&str),
    mut next: impl FnMut(&mut R, &R::Answer, &[ExecutedCall]),
) -> Result<(R::Answer, Vec<ExecutedCall>), Error> {
    let mut guard = Guard::start(caps, client.clock());
    let mut log = Vec::new();
    loop {
        guard.next(client.clock())?;
        let answer = if caps.stream {
            client.stream(&req, Some(tools), on_text).await?
        } else {
            client.call(&req, Some(tools)).await?
        };
        let calls = answer.tool_calls();
        if calls.is_empty() {
            return Ok((answer, log));
        }
        let done = execute_all(tools, &calls);
        next(&mut req, &answer, &done);
        log.extend(done);
    }
}

/// Responses tool loop. Returns the final response (no function calls left).
pub async fn run_responses<T: HttpTransport, C: Clock, D: DelayNs>(
    client: &mut Client<T, C, D>,
    tools: &mut ToolRegistry<'_>,
    req: ResponsesRequest,
    chaining: Chaining,
    caps: LoopCaps,
    on_text: &mut dyn FnMut(&str),
) -> Result<(ResponseObject, Vec<ExecutedCall>), Error> {
    run(client, tools, req, caps, on_text, |req, resp, done| {
        let outputs = done.iter().map(|d| InputItem::FunctionCallOutput {
            call_id: d.call.id.clone(),
            output: d.output.clone(),
        });
        match chaining {
            Chaining::PreviousResponseId if !resp.id.is_empty() => {
                req.previous_response_id = Some(resp.id.clone());
                req.input = outputs.collect();
            }
            _ => {
                req.input
                    .extend(resp.output.iter().cloned().map(InputItem::Raw));
                req.input.extend(outputs);
            }
        }
    })
    .await
}

/// Chat Completions tool loop. Returns the final completion.
pub async fn run_chat<T: HttpTransport, C: Clock, D: DelayNs>(
    client: &mut Client<T, C, D>,
    tools: &mut ToolRegistry<'_>,
    req: ChatRequest,
    caps: LoopCaps,
    on_text: &mut dyn FnMut(&str),
) -> Result<(ChatCompletion, Vec<ExecutedCall>), Error> {
    run(client, tools, req, caps, on_text, |req, c, done| {
        req.messages.push(c.to_message());
        req.messages.extend(done.iter().map(|d| ChatMessage::Tool {
            call_id: d.call.id.clone(),
            content: d.output.clone(),
        }));
    })
    .await
}

/// Anthropic tool loop (`tool_use` → `tool_result`). Returns the final message.
pub async fn run_anthropic<T: HttpTransport, C: Clock, D: DelayNs>(
    client: &mut Client<T, C, D>,
    tools: &mut ToolRegistry<'_>,
    req: AnthropicRequest,
    caps: LoopCaps,
    on_text: &mut dyn FnMut(&str),
) -> Result<(AnthropicResponse, Vec<ExecutedCall>), Error> {
    run(client, tools, req, caps, on_text, |req, r, done| {
        req.messages.push(r.to_message());
        let results: Vec<(String, String, bool)> = done
            .iter()
            .map(|d| {
                (
                    d.call.id.clone(),
                    d.output.clone(),
                    d.status != CallStatus::Ok,
                )
            })
            .collect();
        req.messages.push(AnthropicMessage::tool_results(&results));
    })
    .await
}
