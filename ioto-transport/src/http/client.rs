//! The HTTP client: connects through a [`Connect`], applies timeouts and
//! (optionally) follows redirects.

use core::fmt::Write as _;

use embedded_io_async::Write;

use super::connect::Connect;
use super::head::{Head, read_final_head};
use super::request::{Method, Request, RequestBody};
use super::response::Response;
use super::timeout::{Deadline, TimedStream, Timeouts, Timer, with_timeout};
use super::url::Url;
use super::{HeaderIter, HttpError};

/// Longest redirect target (`Location`, made absolute) the client follows.
pub const MAX_REDIRECT_URL: usize = 384;

/// Client settings; the default has [`Timeouts::default`] and no redirects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HttpConfig {
    /// Connect, per-read and overall timeouts.
    pub timeouts: Timeouts,
    /// Redirects (301, 302, 303, 307, 308) to follow; `0` (the default) returns
    /// the redirect response to the caller. Past the limit the client fails with
    /// [`HttpError::TooManyRedirects`]. A redirect to another origin (scheme, host
    /// or port differ) is sent without basic auth and without the request's extra
    /// headers (`Authorization`, API keys...), as browsers and curl do; they stay off
    /// for the rest of the chain.
    pub max_redirects: u8,
}

/// The connection type a client's responses read from.
pub type ClientStream<C, T> = TimedStream<<C as Connect>::Connection, T>;

/// An HTTP/1.1 client. Each [`send`](HttpClient::send) opens a fresh connection
/// through the connector, writes the request, and returns the response head;
/// the body is then streamed from the connection, which the client keeps until
/// the next request.
pub struct HttpClient<C: Connect, T: Timer> {
    connector: C,
    timer: T,
    config: HttpConfig,
    conn: Option<ClientStream<C, T>>,
}

impl<C: Connect, T: Timer> HttpClient<C, T> {
    /// A client with the default [`HttpConfig`].
    pub fn new(connector: C, timer: T) -> Self {
        Self::with_config(connector, timer, HttpConfig::default())
    }

    /// A client with the given settings.
    pub fn with_config(connector: C, timer: T, config: HttpConfig) -> Self {
        Self {
            connector,
            timer,
            config,
            conn: None,
        }
    }

    /// The settings.
    pub fn config_mut(&mut self) -> &mut HttpConfig {
        &mut self.config
    }

    /// Drops the current connection, if any, without a TLS `close_notify` (use
    /// [`shutdown`](Self::shutdown) for a clean TLS close).
    pub fn close(&mut self) {
        self.conn = None;
    }

    /// Closes the current connection, if any, cleanly: the connector's
    /// [`Connect::close`] runs first, so over TLS the server gets `close_notify`
    /// (RFC 8446 §6.1) instead of a bare TCP close. Bounded by the connect timeout
    /// ([`Timeouts::connect_ms`](super::Timeouts::connect_ms)). A new request closes
    /// the previous connection the same way.
    pub async fn shutdown(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut timer = self.timer.clone();
            let budget = self.config.timeouts.connect_ms;
            let close = self.connector.close(conn.into_inner());
            // On timeout the connection is dropped all the same.
            let _ = with_timeout(&mut timer, budget, close).await;
        }
    }

    /// Sends `request` and reads the response head into `rx_buf` (which must
    /// hold the whole head; the body is streamed through it afterwards).
    pub async fn send<'s, 'b, B: RequestBody>(
        &'s mut self,
        request: &Request<'_, B>,
        rx_buf: &'b mut [u8],
    ) -> Result<Response<'s, 'b, ClientStream<C, T>>, HttpError> {
        let timeouts = self.config.timeouts;
        let deadline = Deadline::after(&self.timer, timeouts.total_ms);
        let mut method = request.method();
        let mut with_body = true;
        let mut location: heapless::String<MAX_REDIRECT_URL> = heapless::String::new();
        let mut redirects = 0u8;
        // Credentials and the caller's headers go only to the request's own origin:
        // once a redirect leaves it, they stay off for the rest of the chain.
        let mut credentials = true;
        let head = loop {
            let url_str = if redirects == 0 {
                request.url()
            } else {
                location.as_str()
            };
            let url = Url::parse(url_str).map_err(|_| HttpError::InvalidUrl)?;
            let head = self
                .exchange(
                    request,
                    Hop {
                        method,
                        with_body,
                        credentials,
                    },
                    &url,
                    deadline,
                    rx_buf,
                )
                .await?;
            if !is_redirect(head.status) || self.config.max_redirects == 0 {
                break head;
            }
            if redirects >= self.config.max_redirects {
                self.conn = None;
                return Err(HttpError::TooManyRedirects);
            }
            let target = HeaderIter::new(rx_buf.get(..head.header_len).unwrap_or(&[]))
                .find(|(n, _)| n.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v)
                .ok_or(HttpError::InvalidRedirect)?;
            let next = resolve(&url, target)?;
            let next_url = Url::parse(next.as_str()).map_err(|_| HttpError::InvalidRedirect)?;
            credentials &= same_origin(&url, &next_url);
            if head.status == 303 || (matches!(head.status, 301 | 302) && method == Method::POST) {
                if method != Method::HEAD {
                    method = Method::GET;
                }
                with_body = false;
            }
            location = next;
            redirects += 1;
        };
        match self.conn.as_mut() {
            Some(conn) => Ok(Response::new(conn, rx_buf, head)),
            None => Err(HttpError::ConnectionClosed),
        }
    }

    /// One request/response-head round trip on a fresh connection.
    async fn exchange<B: RequestBody>(
        &mut self,
        request: &Request<'_, B>,
        hop: Hop,
        url: &Url<'_>,
        deadline: Deadline,
        rx_buf: &mut [u8],
    ) -> Result<Head, HttpError> {
        let Hop {
            method,
            with_body,
            credentials,
        } = hop;
        self.shutdown().await;
        let timeouts = self.config.timeouts;
        let mut timer = self.timer.clone();
        let budget = deadline.budget(&timer, timeouts.connect_ms);
        let stream = with_timeout(&mut timer, budget, self.connector.connect(url))
            .await
            .map_err(|()| HttpError::Timeout)?
            .map_err(HttpError::Connect)?;
        let conn = self.conn.insert(TimedStream::new(
            stream,
            self.timer.clone(),
            timeouts.read_ms,
            deadline,
        ));
        request
            .write_to(conn, method, url, with_body, credentials)
            .await?;
        conn.flush().await.map_err(HttpError::from_io)?;
        read_final_head(conn, rx_buf, method == Method::HEAD).await
    }
}

/// How one request of a redirect chain is sent.
#[derive(Clone, Copy)]
struct Hop {
    /// The method (a 303, or a 301/302 after POST, turns it into GET).
    method: Method,
    /// Whether the body is sent.
    with_body: bool,
    /// Whether basic auth and the caller's headers are sent (same origin so far).
    credentials: bool,
}

/// Whether two URLs have the same origin (RFC 6454 §4: scheme, host, port). Host
/// names compare without case; `http` and `https` differ, as do default and
/// explicit ports only when their numbers differ.
fn same_origin(a: &Url<'_>, b: &Url<'_>) -> bool {
    a.scheme == b.scheme && a.port == b.port && a.host.eq_ignore_ascii_case(b.host)
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Makes a `Location` value absolute against the URL it came from. Absolute
/// URLs and absolute paths are supported; other relative forms are rejected.
fn resolve(
    base: &Url<'_>,
    location: &[u8],
) -> Result<heapless::String<MAX_REDIRECT_URL>, HttpError> {
    let location = core::str::from_utf8(location).map_err(|_| HttpError::InvalidRedirect)?;
    let mut out: heapless::String<MAX_REDIRECT_URL> = heapless::String::new();
    let written = if Url::parse(location).is_ok() {
        out.push_str(location).map_err(|_| core::fmt::Error)
    } else if location.starts_with('/') && !location.starts_with("//") {
        let (open, close) = if base.host.contains(':') {
            ("[", "]")
        } else {
            ("", "")
        };
        write!(
            out,
            "{}://{open}{}{close}:{}{}",
            base.scheme.as_str(),
            base.host,
            base.port,
            location
        )
    } else {
        return Err(HttpError::InvalidRedirect);
    };
    written.map_err(|_| HttpError::InvalidRedirect)?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        fn origin(u: &str) -> Url<'_> {
            Url::parse(u).unwrap()
        }
        let a = origin("https://api.example.com/v1");
        assert!(same_origin(
            &a,
            &origin("https://API.example.com:443/other")
        ));
        assert!(!same_origin(&a, &origin("http://api.example.com/v1")));
        assert!(!same_origin(&a, &origin("https://api.example.com:8443/v1")));
        assert!(!same_origin(&a, &origin("https://evil.example.com/v1")));
    }

    #[test]
    fn resolves_locations() {
        let base = Url::parse("http://h:8080/a/b").unwrap();
        assert_eq!(resolve(&base, b"/c?d").as_deref(), Ok("http://h:8080/c?d"));
        assert_eq!(resolve(&base, b"https://x/y").as_deref(), Ok("https://x/y"));
        assert_eq!(resolve(&base, b"c"), Err(HttpError::InvalidRedirect));
        assert_eq!(resolve(&base, b"//evil/"), Err(HttpError::InvalidRedirect));
        assert_eq!(resolve(&base, &[0xff]), Err(HttpError::InvalidRedirect));
    }
}
