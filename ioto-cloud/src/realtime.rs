//! Realtime API (GA) event layer: client events (`session.update`,
//! `conversation.item.create`, `input_audio_buffer.append` from PCM16 samples,
//! `response.create`), typed server events, and a session that routes
//! `response.function_call_arguments.done` through the [`ToolRegistry`] and answers
//! with `function_call_output` items. GA: no `OpenAI-Beta` header is ever sent.
//!
//! The socket is abstract ([`RealtimeSocket`]); any WebSocket client that sends and
//! receives text messages fits.

use crate::error::{Error, MAX_CODE, MAX_MESSAGE, bounded, server_text};
use crate::secret::Secret;
use crate::tools::{CallStatus, ToolRegistry, call_name};
use crate::transport::TransportError;
use crate::types::{AnswerLimits, ToolCall};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

/// Largest PCM16 chunk encoded per `input_audio_buffer.append` (samples).
pub const MAX_APPEND_SAMPLES: usize = 24_000;
/// Largest decoded audio delta accepted (bytes).
pub const MAX_AUDIO_DELTA: usize = 64 * 1024;

/// The WebSocket path and headers for connecting to `model` (GA: only
/// `Authorization`, no `OpenAI-Beta`). Header values are [`Secret`]s: they print
/// redacted and are wiped when dropped.
pub fn connect_request(
    base_path: &str,
    model: &str,
    key: &Secret,
) -> (String, Vec<(&'static str, Secret)>) {
    let path = alloc::format!("{base_path}/realtime?model={model}");
    let headers = alloc::vec![("Authorization", key.bearer())];
    (path, headers)
}

/// `session.update` with instructions, the registry's tools and output modalities
/// (`["text"]` or `["audio"]`).
pub fn session_update(instructions: &str, tools: &ToolRegistry<'_>, modality: &str) -> String {
    json!({"type": "session.update", "session": {
        "type": "realtime",
        "instructions": instructions,
        "output_modalities": [modality],
        "tools": tools.function_tools(false),
        "tool_choice": "auto",
    }})
    .to_string()
}

/// `conversation.item.create` with a user text message.
pub fn user_text(text: &str) -> String {
    json!({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }})
    .to_string()
}

/// `conversation.item.create` answering a function call.
pub fn function_call_output(call_id: &str, output: &str) -> String {
    json!({"type": "conversation.item.create", "item": {
        "type": "function_call_output", "call_id": call_id, "output": output,
    }})
    .to_string()
}

/// `input_audio_buffer.append` with PCM16 (little-endian) samples, base64-encoded.
pub fn audio_append(samples: &[i16]) -> Result<String, Error> {
    if samples.len() > MAX_APPEND_SAMPLES {
        return Err(Error::LimitExceeded("audio append"));
    }
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    Ok(json!({"type": "input_audio_buffer.append", "audio": B64.encode(bytes)}).to_string())
}

/// `response.create` (default response settings of the session).
pub fn response_create() -> String {
    json!({"type": "response.create"}).to_string()
}

/// Decodes a base64 PCM16 audio delta into samples.
pub fn decode_audio(b64: &str) -> Result<Vec<i16>, Error> {
    if b64.len() / 4 * 3 > MAX_AUDIO_DELTA {
        return Err(Error::LimitExceeded("audio delta"));
    }
    let bytes = B64
        .decode(b64)
        .map_err(|_| Error::Json("audio is not base64"))?;
    if bytes.len() % 2 != 0 {
        return Err(Error::Json("odd PCM16 byte count"));
    }
    Ok(bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}

/// A server event, typed where a device acts on it.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEvent {
    /// `session.created` (session id).
    SessionCreated(String),
    /// `session.updated`.
    SessionUpdated,
    /// `response.created`.
    ResponseCreated,
    /// `response.output_text.delta`.
    TextDelta(String),
    /// `response.output_audio.delta` (base64 PCM16; see [`decode_audio`]).
    AudioDelta(String),
    /// `response.output_audio_transcript.delta`.
    TranscriptDelta(String),
    /// `response.function_call_arguments.done`.
    FunctionCall(ToolCall),
    /// `response.done` with the response status.
    ResponseDone(String),
    /// `error`. From [`parse_server_event`] the server's whole text; from
    /// [`RealtimeSession::on_event`] key-scrubbed and bounded.
    Error {
        /// Error code.
        code: String,
        /// Message.
        message: String,
    },
    /// Any other event (type kept).
    Other(String),
}

/// Parses one server event (a WebSocket text message).
pub fn parse_server_event(text: &str) -> Result<ServerEvent, Error> {
    if text.len() > 256 * 1024 {
        return Err(Error::LimitExceeded("realtime event"));
    }
    let v: Value = serde_json::from_str(text).map_err(|_| Error::Json("realtime event"))?;
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let s_or = |v: &Value, d: &str| v.as_str().unwrap_or(d).to_string();
    let kind = v["type"]
        .as_str()
        .ok_or(Error::Json("realtime event type"))?;
    Ok(match kind {
        "session.created" => ServerEvent::SessionCreated(s(&v["session"]["id"])),
        "session.updated" => ServerEvent::SessionUpdated,
        "response.created" => ServerEvent::ResponseCreated,
        "response.output_text.delta" => ServerEvent::TextDelta(s(&v["delta"])),
        "response.output_audio.delta" => ServerEvent::AudioDelta(s(&v["delta"])),
        "response.output_audio_transcript.delta" => ServerEvent::TranscriptDelta(s(&v["delta"])),
        "response.function_call_arguments.done" => ServerEvent::FunctionCall(ToolCall {
            id: bounded(v["call_id"].as_str().unwrap_or_default(), 128),
            name: call_name(v["name"].as_str().unwrap_or_default()),
            arguments: s(&v["arguments"]),
        }),
        "response.done" => ServerEvent::ResponseDone(s(&v["response"]["status"])),
        // Whole text (the event is capped above): a session scrubs the key out of
        // it before bounding it.
        "error" => ServerEvent::Error {
            code: s_or(&v["error"]["code"], "error"),
            message: s(&v["error"]["message"]),
        },
        other => ServerEvent::Other(bounded(other, 96)),
    })
}

/// Routes a session's tool calls through a registry, at most
/// [`max_tool_calls`](AnswerLimits::max_tool_calls) per response (the HTTP loops'
/// cap), with exact name matching.
#[derive(Debug)]
pub struct RealtimeSession<'r, 'a> {
    tools: &'r mut ToolRegistry<'a>,
    calls_in_response: usize,
    max_tool_calls: usize,
    key: Secret,
}

impl<'r, 'a> RealtimeSession<'r, 'a> {
    /// A session using `tools`, with the default cap of
    /// [`AnswerLimits::max_tool_calls`] calls per response and no key to scrub.
    pub fn new(tools: &'r mut ToolRegistry<'a>) -> Self {
        Self {
            tools,
            calls_in_response: 0,
            max_tool_calls: AnswerLimits::default().max_tool_calls,
            key: Secret::default(),
        }
    }

    /// Caps the function calls run per response (a response asking for more fails
    /// with [`Error::LimitExceeded`]`("tool calls")`, as a streamed HTTP answer does).
    pub fn with_max_tool_calls(mut self, max: usize) -> Self {
        self.max_tool_calls = max;
        self
    }

    /// The key this session connected with: scrubbed out of server `error` events.
    pub fn with_key(mut self, key: &Secret) -> Self {
        self.key = key.clone();
        self
    }

    /// Handles one server event; returns it parsed plus the client events to send
    /// back: a `function_call_output` per call, and one `response.create` when a
    /// response that made calls is done. An `error` event comes back key-scrubbed and
    /// bounded.
    pub fn on_event(&mut self, text: &str) -> Result<(ServerEvent, Vec<String>), Error> {
        let mut ev = parse_server_event(text)?;
        let mut replies = Vec::new();
        match &mut ev {
            ServerEvent::FunctionCall(call) => {
                if self.calls_in_response >= self.max_tool_calls {
                    return Err(Error::LimitExceeded("tool calls"));
                }
                self.calls_in_response += 1;
                let (out, _status): (String, CallStatus) =
                    self.tools.dispatch(&call.name, &call.arguments);
                replies.push(function_call_output(&call.id, &out));
            }
            ServerEvent::ResponseCreated => self.calls_in_response = 0,
            ServerEvent::ResponseDone(_) if self.calls_in_response > 0 => {
                self.calls_in_response = 0;
                replies.push(response_create());
            }
            ServerEvent::Error { code, message } => {
                *code = server_text(code, &self.key, MAX_CODE);
                *message = server_text(message, &self.key, MAX_MESSAGE);
            }
            _ => {}
        }
        Ok((ev, replies))
    }
}

/// A WebSocket carrying text messages.
pub trait RealtimeSocket {
    /// Sends one text message.
    async fn send_text(&mut self, text: &str) -> Result<(), TransportError>;
    /// Receives one text message into `buf`.
    async fn recv_text<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b str, TransportError>;
}

/// Sends `text` as a user turn and runs the conversation until a response finishes
/// without tool calls (at most `max_responses` responses); text deltas go to `on_text`.
pub async fn run_text_turn<S: RealtimeSocket>(
    socket: &mut S,
    session: &mut RealtimeSession<'_, '_>,
    text: &str,
    buf: &mut [u8],
    max_responses: u32,
    on_text: &mut dyn FnMut(&str),
) -> Result<(), Error> {
    socket.send_text(&user_text(text)).await?;
    socket.send_text(&response_create()).await?;
    let mut responses = 0;
    loop {
        let msg = socket.recv_text(buf).await?;
        let (ev, replies) = session.on_event(msg)?;
        for r in &replies {
            socket.send_text(r).await?;
        }
        match ev {
            ServerEvent::TextDelta(d) | ServerEvent::TranscriptDelta(d) => on_text(&d),
            ServerEvent::Error { code, message } => return Err(Error::Api { code, message }),
            ServerEvent::ResponseDone(_) => {
                responses += 1;
                if replies.is_empty() {
                    return Ok(());
                }
                if responses >= max_responses {
                    return Err(Error::IterationCap(max_responses));
                }
            }
            _ => {}
        }
    }
}

#[cfg(feature = "net")]
mod ws_socket {
    use super::RealtimeSocket;
    use crate::transport::TransportError;
    use embedded_io_async::{Read, Write};
    use ioto_core::Entropy;
    use ioto_transport::ws::{Message, WebSocket, WsError};

    fn map(e: WsError) -> TransportError {
        match e {
            WsError::Connect(_) => TransportError::Connect,
            WsError::Closed => TransportError::Io,
            _ => TransportError::Protocol,
        }
    }

    impl<S: Read + Write, E: Entropy> RealtimeSocket for WebSocket<'_, S, E> {
        async fn send_text(&mut self, text: &str) -> Result<(), TransportError> {
            WebSocket::send_text(self, text).await.map_err(map)
        }

        async fn recv_text<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b str, TransportError> {
            match self.receive(buf).await.map_err(map)? {
                Message::Text(t) => Ok(t),
                Message::Binary(_) => Err(TransportError::Protocol),
                Message::Close(_) => Err(TransportError::Io),
            }
        }
    }
}

/// The `ws://`/`wss://` URL for `model` on `endpoint` (`wss` unless the endpoint is
/// a local plain-HTTP one).
pub fn realtime_url(endpoint: &crate::endpoint::Endpoint, model: &str) -> String {
    let scheme = match endpoint.scheme {
        crate::endpoint::Scheme::Http => "ws",
        crate::endpoint::Scheme::Https => "wss",
    };
    alloc::format!(
        "{scheme}://{}:{}{}/realtime?model={model}",
        endpoint.host,
        endpoint.port,
        endpoint.base_path
    )
}
