//! [`HttpTransport`] on ioto-transport's HTTP/1.1 client (reqwless): the device
//! transport. For `https://` endpoints give it ioto-transport's verified TLS connector
//! (`ioto_transport::tls::TlsHttpConnector`, feature `tls`); with the plain
//! `TcpConnector`, HTTPS fails with [`TransportError::Tls`] rather than downgrading.

use super::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};
use crate::endpoint::Scheme;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;
use ioto_transport::http::{
    Body, ClientStream, Connect, ConnectError, HttpClient, HttpError, Request, Timer,
};

/// The model clients' transport over an [`HttpClient`]; owns the response-head
/// buffer (`head_bytes`, which also bounds the response head).
pub struct IotoHttp<C: Connect, T: Timer> {
    client: HttpClient<C, T>,
    rx: Vec<u8>,
    url: String,
}

impl<C: Connect, T: Timer> core::fmt::Debug for IotoHttp<C, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IotoHttp")
            .field("head_bytes", &self.rx.len())
            .finish()
    }
}

impl<C: Connect, T: Timer> IotoHttp<C, T> {
    /// Wraps `client` with a `head_bytes` receive buffer (2–4 KiB is typical).
    pub fn new(client: HttpClient<C, T>, head_bytes: usize) -> Self {
        Self {
            client,
            rx: vec![0; head_bytes],
            url: String::new(),
        }
    }
}

fn map_error(e: HttpError) -> TransportError {
    match e {
        // A TLS-only connector refusing `http://` is a policy decision, not worth a retry.
        HttpError::Connect(
            ConnectError::Tls(_) | ConnectError::TlsUnavailable | ConnectError::PlainRefused,
        ) => TransportError::Tls,
        HttpError::Connect(_) => TransportError::Connect,
        HttpError::Timeout => TransportError::Timeout,
        HttpError::Io(_) | HttpError::ConnectionClosed => TransportError::Io,
        _ => TransportError::Protocol,
    }
}

impl<C: Connect, T: Timer> HttpTransport for IotoHttp<C, T> {
    type Body<'a>
        = Body<'a, 'a, ClientStream<C, T>>
    where
        Self: 'a;

    async fn send<'a>(
        &'a mut self,
        req: &HttpRequest<'_>,
    ) -> Result<HttpResponse<Self::Body<'a>>, TransportError> {
        let scheme = match req.endpoint.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        self.url.clear();
        write!(
            self.url,
            "{scheme}://{}:{}{}",
            req.endpoint.host, req.endpoint.port, req.path
        )
        .map_err(|_| TransportError::Protocol)?;
        let method = match req.method {
            Method::Get => ioto_transport::http::Method::GET,
            Method::Post => ioto_transport::http::Method::POST,
        };
        let request = Request::new(method, &self.url)
            .headers(req.headers)
            .body(req.body);
        let resp = self
            .client
            .send(&request, &mut self.rx)
            .await
            .map_err(map_error)?;
        let status = resp.status();
        let retry_after = resp
            .header_str("retry-after")
            .and_then(|v| v.trim().parse().ok());
        Ok(HttpResponse {
            status,
            retry_after,
            body: resp.into_body(),
        })
    }
}
