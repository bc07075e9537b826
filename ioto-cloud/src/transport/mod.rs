//! The HTTP transport the clients run on. Any HTTP/1.1 client whose response body is an
//! [`embedded_io_async::Read`] fits: ioto-transport's reqwless client ([`IotoHttp`],
//! feature `net`) on a device and on a host; `ioto_board_host::platform` also has a
//! blocking `StdHttp` for single-task host tools and tests.

use crate::endpoint::Endpoint;

/// HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
}

/// Why the transport failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// Could not connect (DNS, refused, unreachable).
    Connect,
    /// TLS handshake or certificate verification failed (or TLS unavailable).
    Tls,
    /// Reading or writing failed, or the connection closed early.
    Io,
    /// A socket timeout fired.
    Timeout,
    /// The server's HTTP framing was invalid.
    Protocol,
}

/// One request. `headers` may contain the API key: transports must not log them, and
/// `Debug` prints header names only.
pub struct HttpRequest<'a> {
    /// Method.
    pub method: Method,
    /// Where to connect.
    pub endpoint: &'a Endpoint,
    /// Full path (base path included).
    pub path: &'a str,
    /// Extra headers (`Host`, `Content-Length` are the transport's job).
    pub headers: &'a [(&'a str, &'a str)],
    /// Body (JSON).
    pub body: &'a [u8],
}

impl core::fmt::Debug for HttpRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("endpoint", &self.endpoint)
            .field("path", &self.path)
            .field("headers", &HeaderNames(self.headers))
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// `Debug` of a header list: the names, every value `[REDACTED]`.
struct HeaderNames<'h>(&'h [(&'h str, &'h str)]);

impl core::fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, _)| (k, "[REDACTED]")))
            .finish()
    }
}

/// Status, the headers the client needs, and the streaming body.
#[derive(Debug)]
pub struct HttpResponse<B> {
    /// HTTP status code.
    pub status: u16,
    /// `Retry-After` in seconds, when present and numeric.
    pub retry_after: Option<u32>,
    /// The body, read incrementally.
    pub body: B,
}

/// An HTTP/1.1 client.
pub trait HttpTransport {
    /// The streaming body of one response.
    type Body<'a>: embedded_io_async::Read
    where
        Self: 'a;

    /// Sends `req` and returns once the response head has arrived.
    async fn send<'a>(
        &'a mut self,
        req: &HttpRequest<'_>,
    ) -> Result<HttpResponse<Self::Body<'a>>, TransportError>;
}

/// Maps a body read error to a [`TransportError`].
pub(crate) fn io_error<E: embedded_io_async::Error>(e: E) -> TransportError {
    match e.kind() {
        embedded_io_async::ErrorKind::TimedOut => TransportError::Timeout,
        _ => TransportError::Io,
    }
}

#[cfg(feature = "net")]
mod ioto_http;
#[cfg(feature = "net")]
pub use ioto_http::IotoHttp;
