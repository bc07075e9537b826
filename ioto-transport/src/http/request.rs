//! Requests: a small builder and the code that writes a request to a stream.
//!
//! The request line and headers are encoded by reqwless
//! (`reqwless::request::Request::write_header`); bodies with a known length go
//! out as-is behind `Content-Length`, bodies of unknown length (`len() == None`)
//! with `Transfer-Encoding: chunked`.

use core::fmt::Write as _;

use embedded_io::{ErrorKind, ErrorType};
use embedded_io_async::Write;
pub use reqwless::request::{Method, RequestBody};
use reqwless::request::{Request as WireRequest, RequestBuilder as _};

use super::HttpError;
use super::url::Url;

/// Longest `Host` header value written (host name + `:port`).
const MAX_HOST_HEADER: usize = 262;

/// An HTTP request: method, absolute URL, extra headers and an optional body.
///
/// ```
/// use ioto_transport::http::Request;
/// let headers = [("Accept", "text/event-stream")];
/// let get = Request::get("http://example.com/events").headers(&headers);
/// let post = Request::post("http://example.com/api").body(&b"{\"on\":true}"[..]);
/// # let _ = (get, post);
/// ```
pub struct Request<'a, B = ()> {
    method: Method,
    url: &'a str,
    headers: &'a [(&'a str, &'a str)],
    basic_auth: Option<(&'a str, &'a str)>,
    body: Option<B>,
}

impl<'a> Request<'a, ()> {
    /// A request without body.
    pub fn new(method: Method, url: &'a str) -> Self {
        Request {
            method,
            url,
            headers: &[],
            basic_auth: None,
            body: None,
        }
    }

    /// `GET url`.
    pub fn get(url: &'a str) -> Self {
        Self::new(Method::GET, url)
    }

    /// `POST url` (add the body with [`Request::body`]).
    pub fn post(url: &'a str) -> Self {
        Self::new(Method::POST, url)
    }

    /// `PUT url` (add the body with [`Request::body`]).
    pub fn put(url: &'a str) -> Self {
        Self::new(Method::PUT, url)
    }

    /// `DELETE url`.
    pub fn delete(url: &'a str) -> Self {
        Self::new(Method::DELETE, url)
    }

    /// `HEAD url`.
    pub fn head(url: &'a str) -> Self {
        Self::new(Method::HEAD, url)
    }
}

impl<'a, B: RequestBody> Request<'a, B> {
    /// Extra headers, written as given after `Host` (do not set `Content-Length`
    /// or `Transfer-Encoding`; they follow from the body).
    pub fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// HTTP basic authentication (user + password up to 127 bytes together).
    pub fn basic_auth(mut self, user: &'a str, password: &'a str) -> Self {
        self.basic_auth = Some((user, password));
        self
    }

    /// Sets the body: a `&[u8]` (sent with `Content-Length`), or any
    /// [`RequestBody`]; one whose `len()` is `None` is sent chunked.
    pub fn body<T: RequestBody>(self, body: T) -> Request<'a, T> {
        Request {
            method: self.method,
            url: self.url,
            headers: self.headers,
            basic_auth: self.basic_auth,
            body: Some(body),
        }
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The URL as given.
    pub fn url(&self) -> &'a str {
        self.url
    }

    /// Writes this request to `stream` as `method` for `url` (they differ from
    /// the request's own after a redirect). `with_body = false` drops the body;
    /// `credentials = false` drops basic auth and the extra headers (which may carry
    /// `Authorization`, API keys or cookies), for a redirect to another origin.
    pub(crate) async fn write_to<S: Write>(
        &self,
        stream: &mut S,
        method: Method,
        url: &Url<'_>,
        with_body: bool,
        credentials: bool,
    ) -> Result<(), HttpError> {
        let host = host_header(url)?;

        let headers: &[(&str, &str)] = if credentials { self.headers } else { &[] };
        let mut wire = WireRequest::new(method, url.target)
            .host(host.as_str())
            .headers(headers);
        if let Some((user, password)) = self.basic_auth.filter(|_| credentials) {
            wire = wire.basic_auth(user, password);
        }
        let body = self.body.as_ref().filter(|_| with_body);
        match body {
            Some(body) => {
                let wire = wire.body(BodyRef(body)).build();
                wire.write_header(stream).await.map_err(from_reqwless)?;
                write_body(stream, body).await
            }
            None if method_expects_body(method) => {
                let empty: &[u8] = &[];
                let wire = wire.body(empty).build();
                wire.write_header(stream).await.map_err(from_reqwless)
            }
            None => wire
                .build()
                .write_header(stream)
                .await
                .map_err(from_reqwless),
        }
    }
}

/// The `Host` header value for `url`: host (bracketed if IPv6) plus `:port`
/// unless it is the scheme's default.
pub(crate) fn host_header(url: &Url<'_>) -> Result<heapless::String<MAX_HOST_HEADER>, HttpError> {
    let mut host: heapless::String<MAX_HOST_HEADER> = heapless::String::new();
    let bracket = url.host.contains(':');
    let written = match (bracket, url.host_needs_port()) {
        (false, false) => host.push_str(url.host).map_err(|_| core::fmt::Error),
        (false, true) => write!(host, "{}:{}", url.host, url.port),
        (true, false) => write!(host, "[{}]", url.host),
        (true, true) => write!(host, "[{}]:{}", url.host, url.port),
    };
    written.map_err(|_| HttpError::InvalidUrl)?;
    Ok(host)
}

fn method_expects_body(method: Method) -> bool {
    matches!(method, Method::POST | Method::PUT | Method::PATCH)
}

fn from_reqwless(e: reqwless::Error) -> HttpError {
    match e {
        reqwless::Error::Network(kind) => HttpError::from_io(kind),
        // Basic-auth credentials too long for reqwless's fixed buffer.
        _ => HttpError::InvalidRequest,
    }
}

/// Lends a borrowed body to reqwless, which takes bodies by value.
struct BodyRef<'x, B>(&'x B);

impl<B: RequestBody> RequestBody for BodyRef<'_, B> {
    fn len(&self) -> Option<usize> {
        self.0.len()
    }

    async fn write<W: Write>(&self, writer: &mut W) -> Result<(), W::Error> {
        self.0.write(writer).await
    }
}

async fn write_body<S: Write, B: RequestBody>(stream: &mut S, body: &B) -> Result<(), HttpError> {
    match body.len() {
        Some(len) => {
            let mut w = LengthWriter {
                inner: stream,
                left: len,
            };
            body.write(&mut w).await.map_err(body_error)?;
            if w.left != 0 {
                return Err(HttpError::BodyLengthMismatch);
            }
            Ok(())
        }
        None => {
            let mut w = ChunkedWriter { inner: stream };
            body.write(&mut w).await.map_err(body_error)?;
            w.inner
                .write_all(b"0\r\n\r\n")
                .await
                .map_err(|e| HttpError::from_io(embedded_io::Error::kind(&e)))
        }
    }
}

fn body_error(kind: ErrorKind) -> HttpError {
    match kind {
        ErrorKind::InvalidData => HttpError::BodyLengthMismatch,
        other => HttpError::from_io(other),
    }
}

/// Passes at most `left` bytes through; writing more is `InvalidData`.
struct LengthWriter<'a, S> {
    inner: &'a mut S,
    left: usize,
}

impl<S: Write> ErrorType for LengthWriter<'_, S> {
    type Error = ErrorKind;
}

impl<S: Write> Write for LengthWriter<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        if buf.len() > self.left {
            return Err(ErrorKind::InvalidData);
        }
        let n = self
            .inner
            .write(buf)
            .await
            .map_err(|e| embedded_io::Error::kind(&e))?;
        self.left -= n.min(self.left);
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        self.inner
            .flush()
            .await
            .map_err(|e| embedded_io::Error::kind(&e))
    }
}

/// Frames every write as one chunk (`<hex len>\r\n<data>\r\n`).
struct ChunkedWriter<'a, S> {
    inner: &'a mut S,
}

impl<S: Write> ErrorType for ChunkedWriter<'_, S> {
    type Error = ErrorKind;
}

impl<S: Write> Write for ChunkedWriter<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut size: heapless::String<18> = heapless::String::new();
        write!(size, "{:x}\r\n", buf.len()).map_err(|_| ErrorKind::InvalidInput)?;
        let kind = |e: S::Error| embedded_io::Error::kind(&e);
        self.inner.write_all(size.as_bytes()).await.map_err(kind)?;
        self.inner.write_all(buf).await.map_err(kind)?;
        self.inner.write_all(b"\r\n").await.map_err(kind)?;
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        self.inner
            .flush()
            .await
            .map_err(|e| embedded_io::Error::kind(&e))
    }
}
