//! HTTP/1.1 client on [reqwless](https://crates.io/crates/reqwless): `no_std`,
//! async, caller-owned buffers, streaming bodies.
//!
//! - [`HttpClient`] opens a connection per request through a [`Connect`]
//!   ([`TcpConnector`] for plain TCP over `embedded-nal-async`;
//!   `tls::TlsHttpConnector` with feature `tls` for `https`), applies [`Timeouts`] with any [`Timer`], and follows redirects
//!   only when [`HttpConfig::max_redirects`] allows it (off by default).
//! - [`send_on`] does one exchange over any stream you already opened.
//! - A [`Response`] gives status and headers; [`Response::into_body`] turns it
//!   into a [`Body`], an `embedded_io_async::Read` that decodes `Content-Length`,
//!   chunked and read-to-close bodies without buffering them whole.
//!
//! ```no_run
//! # async fn demo<T, D>(tcp: &T, dns: &D) -> Result<(), ioto_transport::http::HttpError>
//! # where T: embedded_nal_async::TcpConnect, D: embedded_nal_async::Dns {
//! use embedded_io_async::Read;
//! use ioto_transport::http::{HttpClient, NoTimer, Request, TcpConnector};
//!
//! let mut client = HttpClient::new(TcpConnector::new(tcp, dns), NoTimer);
//! let mut rx = [0u8; 1024];
//! let response = client.send(&Request::get("http://192.0.2.1/status"), &mut rx).await?;
//! assert!(response.is_success());
//! let mut body = response.into_body();
//! let mut chunk = [0u8; 256];
//! while body.read(&mut chunk).await? > 0 { /* use the bytes */ }
//! # Ok(()) }
//! ```

mod body;
mod client;
mod connect;
mod head;
mod prefixed;
pub(crate) mod request;
mod response;
mod timeout;
pub mod url;

pub use body::Body;
pub use client::{ClientStream, HttpClient, HttpConfig, MAX_REDIRECT_URL};
pub use connect::{Connect, ConnectError, TcpConnector};
pub use head::{Framing, Head, HeaderIter, MAX_HEADERS, read_final_head, read_head};
pub use request::{Method, Request, RequestBody};
pub use response::{Response, send_on};
pub use timeout::{ClockDelay, Deadline, NoTimer, TimedStream, Timeouts, Timer, with_timeout};
pub use url::{Scheme, Url, UrlError};

use embedded_io::ErrorKind;

/// Everything that can go wrong in an HTTP exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// The URL is malformed or its scheme is not http/https.
    InvalidUrl,
    /// The request cannot be encoded (for example basic-auth credentials too long).
    InvalidRequest,
    /// Opening the connection failed.
    Connect(ConnectError),
    /// A read or write on the connection failed.
    Io(ErrorKind),
    /// A connect, read or overall timeout passed.
    Timeout,
    /// The server closed the connection before the response head was complete.
    ConnectionClosed,
    /// The response head does not fit the receive buffer.
    HeadTooLarge,
    /// The status line or a header line is not valid HTTP/1.x.
    MalformedHead,
    /// The response has more than [`MAX_HEADERS`] headers.
    TooManyHeaders,
    /// `Content-Length` is not a number, overflows, or appears twice with different values.
    InvalidContentLength,
    /// A `Transfer-Encoding` other than `chunked`.
    UnsupportedTransferEncoding,
    /// A chunk-size line or chunk terminator of a chunked body is malformed.
    MalformedChunk,
    /// The connection ended before the body announced by the head was complete.
    TruncatedBody,
    /// The body does not fit the buffer given to `read_to_end`.
    BodyTooLarge,
    /// The request body wrote a different number of bytes than its `len()`.
    BodyLengthMismatch,
    /// More redirects than [`HttpConfig::max_redirects`].
    TooManyRedirects,
    /// A redirect without usable `Location` (missing, relative, too long).
    InvalidRedirect,
}

impl HttpError {
    /// The error for a failed stream operation (`TimedOut` becomes [`HttpError::Timeout`]).
    pub fn from_io<E: embedded_io::Error>(e: E) -> Self {
        match e.kind() {
            ErrorKind::TimedOut => HttpError::Timeout,
            kind => HttpError::Io(kind),
        }
    }
}

impl core::fmt::Display for HttpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

impl core::error::Error for HttpError {}

impl embedded_io::Error for HttpError {
    fn kind(&self) -> ErrorKind {
        match self {
            HttpError::Io(kind) => *kind,
            HttpError::Connect(ConnectError::Io(kind)) => *kind,
            HttpError::Timeout => ErrorKind::TimedOut,
            HttpError::ConnectionClosed | HttpError::TruncatedBody => ErrorKind::ConnectionAborted,
            HttpError::InvalidUrl | HttpError::InvalidRequest | HttpError::BodyLengthMismatch => {
                ErrorKind::InvalidInput
            }
            _ => ErrorKind::InvalidData,
        }
    }
}
