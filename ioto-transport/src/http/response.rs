//! A received response: status and headers, then the body as a stream.

use embedded_io_async::{Read, Write};

use super::HttpError;
use super::body::Body;
use super::head::{Framing, Head, HeaderIter, read_final_head};
use super::request::{Method, Request, RequestBody};
use super::url::Url;

/// A response whose head has been read into the caller's buffer. Inspect the
/// status and headers, then call [`Response::into_body`] to stream the body.
pub struct Response<'s, 'b, S: Read> {
    stream: &'s mut S,
    buf: &'b mut [u8],
    head: Head,
}

impl<'s, 'b, S: Read> Response<'s, 'b, S> {
    pub(crate) fn new(stream: &'s mut S, buf: &'b mut [u8], head: Head) -> Self {
        Self { stream, buf, head }
    }

    /// The status code (`200`, `404`, ...).
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// Whether the status is `2xx`.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.head.status)
    }

    /// All headers in order, as `(name, value)` with the value trimmed.
    pub fn headers(&self) -> HeaderIter<'_> {
        HeaderIter::new(self.head_bytes())
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The first header called `name`, if present and valid UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The body length from `Content-Length` (`Some(0)` for responses that
    /// cannot have a body); `None` for chunked or read-to-close bodies.
    pub fn content_length(&self) -> Option<usize> {
        match self.head.framing {
            Framing::Empty => Some(0),
            Framing::Length(n) => Some(n),
            Framing::Chunked | Framing::ToEnd => None,
        }
    }

    /// Whether the body uses chunked transfer encoding.
    pub fn is_chunked(&self) -> bool {
        self.head.framing == Framing::Chunked
    }

    /// The raw head (status line and headers, with the blank line).
    pub fn head_bytes(&self) -> &[u8] {
        self.buf.get(..self.head.header_len).unwrap_or(&[])
    }

    /// The body as a stream. The head's bytes in the buffer are reused to
    /// buffer the body, so headers are no longer available afterwards.
    pub fn into_body(self) -> Body<'s, 'b, S> {
        Body::new(self.stream, self.buf, &self.head)
    }
}

/// Sends `request` over an already open `stream` (plain TCP, TLS, ...) and
/// reads the response head into `rx_buf`, which must hold the whole head.
/// The URL's host and path are used for the request line and `Host` header;
/// its scheme is not checked. No redirects are followed and no timeouts apply
/// (wrap the stream in a [`TimedStream`](super::TimedStream) for those).
pub async fn send_on<'s, 'b, S, B>(
    stream: &'s mut S,
    request: &Request<'_, B>,
    rx_buf: &'b mut [u8],
) -> Result<Response<'s, 'b, S>, HttpError>
where
    S: Read + Write,
    B: RequestBody,
{
    let url = Url::parse(request.url()).map_err(|_| HttpError::InvalidUrl)?;
    let method = request.method();
    request.write_to(stream, method, &url, true, true).await?;
    stream.flush().await.map_err(HttpError::from_io)?;
    let head = read_final_head(stream, rx_buf, method == Method::HEAD).await?;
    Ok(Response::new(stream, rx_buf, head))
}
