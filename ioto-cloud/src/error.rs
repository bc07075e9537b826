//! The one error type of the crate. No variant that leaves a [`Client`] or a
//! [`RealtimeSession`] carries the API key: server text is scrubbed with
//! [`Secret::scrub`](crate::Secret::scrub) and then bounded, in one place
//! (`server_text`, applied by `Error::scrubbed`).
//!
//! [`Client`]: crate::client::Client
//! [`RealtimeSession`]: crate::realtime::RealtimeSession

use crate::schema::ValidationError;
use crate::secret::Secret;
use crate::transport::TransportError;
use alloc::string::String;
use core::fmt;
use ioto_transport::sse::SseError;

/// Everything that can go wrong talking to a model.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// `http://` endpoint not marked local.
    InsecureEndpoint,
    /// The endpoint URL could not be parsed.
    InvalidEndpoint,
    /// The transport failed (connect, TLS, I/O, timeout).
    Transport(TransportError),
    /// The server answered with a non-success status.
    Http {
        /// HTTP status code.
        status: u16,
        /// Seconds from `Retry-After`, when sent.
        retry_after: Option<u32>,
        /// The server's error message (bounded, key scrubbed).
        message: String,
    },
    /// The whole request took longer than the configured timeout.
    Timeout,
    /// The response body exceeded the configured byte cap.
    ResponseTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// A part of the answer (text, tool arguments, item count) exceeded its limit.
    LimitExceeded(&'static str),
    /// The SSE framing was invalid or a line was too long.
    Sse(SseError),
    /// A body or event was not the JSON we expected.
    Json(&'static str),
    /// The stream ended before its terminal event.
    StreamIncomplete,
    /// Stream events arrived out of `sequence_number` order.
    OutOfOrder {
        /// The last sequence number seen.
        last: u64,
        /// The one that arrived after it.
        got: u64,
    },
    /// The model/API reported an error in the body or stream.
    Api {
        /// Error code or type, when given.
        code: String,
        /// Message: bounded and key scrubbed once it leaves the client or Realtime
        /// session; as the parsers build it, the server's whole text (within the
        /// event or body size caps), so the key is found before anything is cut.
        message: String,
    },
    /// The model refused (text of the refusal).
    Refusal(String),
    /// The answer stopped early (`length`, `max_output_tokens`, `max_tokens`, …).
    Incomplete(String),
    /// The structured answer did not match its schema.
    Schema(ValidationError),
    /// The call/token budget for this hour or day is used up.
    BudgetExceeded(&'static str),
    /// The tool loop hit its iteration cap.
    IterationCap(u32),
    /// The tool loop hit its total-time cap.
    TimeCap,
    /// A tool with this name is registered already, or the name is not allowed.
    BadToolDeclaration(&'static str),
    /// The escalation store is full or failed.
    Storage(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InsecureEndpoint => f.write_str("plain http:// endpoint not marked local"),
            Self::InvalidEndpoint => f.write_str("invalid endpoint URL"),
            Self::Transport(e) => write!(f, "transport: {e:?}"),
            Self::Http {
                status, message, ..
            } => write!(f, "HTTP {status}: {message}"),
            Self::Timeout => f.write_str("request timed out"),
            Self::ResponseTooLarge { limit } => write!(f, "response larger than {limit} bytes"),
            Self::LimitExceeded(what) => write!(f, "limit exceeded: {what}"),
            Self::Sse(e) => write!(f, "{e}"),
            Self::Json(what) => write!(f, "bad JSON: {what}"),
            Self::StreamIncomplete => f.write_str("stream ended before completion"),
            Self::OutOfOrder { last, got } => {
                write!(f, "event sequence_number {got} after {last}")
            }
            Self::Api { code, message } => write!(f, "API error {code}: {message}"),
            Self::Refusal(t) => write!(f, "model refused: {t}"),
            Self::Incomplete(r) => write!(f, "answer incomplete: {r}"),
            Self::Schema(e) => write!(f, "answer does not match schema: {e}"),
            Self::BudgetExceeded(w) => write!(f, "budget exceeded: {w}"),
            Self::IterationCap(n) => write!(f, "tool loop stopped after {n} iterations"),
            Self::TimeCap => f.write_str("tool loop exceeded its time cap"),
            Self::BadToolDeclaration(w) => write!(f, "bad tool declaration: {w}"),
            Self::Storage(w) => write!(f, "escalation storage: {w}"),
        }
    }
}

impl core::error::Error for Error {}

impl From<SseError> for Error {
    fn from(e: SseError) -> Self {
        Self::Sse(e)
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

/// Longest server message kept in an error (bytes).
pub(crate) const MAX_MESSAGE: usize = 256;
/// Longest server error code kept (bytes).
pub(crate) const MAX_CODE: usize = 64;

/// Server-supplied text made safe to keep: every occurrence of `key` replaced, then
/// cut to `max` bytes (in this order, so a cut can never leave half a key behind).
pub(crate) fn server_text(text: &str, key: &Secret, max: usize) -> String {
    bounded(&key.scrub(text), max)
}

impl Error {
    /// The same error with `key` scrubbed out of every server- or model-supplied text
    /// and that text bounded.
    pub(crate) fn scrubbed(self, key: &Secret) -> Self {
        match self {
            Self::Api { code, message } => Self::Api {
                code: server_text(&code, key, MAX_CODE),
                message: server_text(&message, key, MAX_MESSAGE),
            },
            Self::Http {
                status,
                retry_after,
                message,
            } => Self::Http {
                status,
                retry_after,
                message: server_text(&message, key, MAX_MESSAGE),
            },
            Self::Refusal(t) => Self::Refusal(key.scrub(&t)),
            Self::Incomplete(r) => Self::Incomplete(key.scrub(&r)),
            other => other,
        }
    }
}

/// Truncates `s` to at most `max` bytes on a char boundary.
pub(crate) fn bounded(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    String::from(&s[..end])
}
