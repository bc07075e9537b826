//! Opening connections: the [`Connect`] trait and its plain-TCP implementation.
//!
//! The HTTP and WebSocket clients never open sockets themselves; they ask a
//! [`Connect`] implementation for a byte stream to a URL's host and port. Any
//! `embedded_io_async::Read + Write` stream works, so TLS is pluggable:
//! `tls::TlsHttpConnector` (feature `tls`) wraps [`TcpConnector`] and returns its
//! verified TLS stream for `https://` and `wss://` URLs.

use core::net::{IpAddr, SocketAddr};

use embedded_io::Error as _;
use embedded_io_async::{Read, Write};
use embedded_nal_async::{AddrType, Dns, TcpConnect};

use super::url::Url;

/// Why a connection could not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// The host name did not resolve.
    Dns,
    /// The TCP connection failed.
    Io(embedded_io::ErrorKind),
    /// The URL needs TLS (`https`, `wss`) but this connector has none.
    TlsUnavailable,
    /// The TLS handshake or certificate verification failed; the text names the reason.
    Tls(&'static str),
    /// The URL is plain `http`/`ws` but the connector only opens TLS connections
    /// (`tls::TlsHttpConnector` without `allow_plain`).
    PlainRefused,
}

/// Opens byte streams to the host named by a URL.
///
/// Implemented by [`TcpConnector`] for plain TCP; TLS connectors wrap another
/// `Connect` and return their encrypted stream.
#[allow(async_fn_in_trait)]
pub trait Connect {
    /// The stream a successful connect returns (plain TCP or TLS).
    type Connection: Read + Write;

    /// Opens a connection to `url.host:url.port`. `url.scheme.is_secure()` tells
    /// whether the caller expects TLS.
    async fn connect(&mut self, url: &Url<'_>) -> Result<Self::Connection, ConnectError>;

    /// Ends `connection` cleanly before it is dropped. A TLS connector sends
    /// `close_notify` (RFC 8446 §6.1: a closing party MUST); the default just drops
    /// the stream (closing TCP). Failures are ignored: the connection is going away.
    async fn close(&mut self, connection: Self::Connection) {
        drop(connection);
    }
}

impl<C: Connect> Connect for &mut C {
    type Connection = C::Connection;

    async fn connect(&mut self, url: &Url<'_>) -> Result<Self::Connection, ConnectError> {
        C::connect(self, url).await
    }

    async fn close(&mut self, connection: Self::Connection) {
        C::close(self, connection).await;
    }
}

/// A [`Connect`] for plain TCP over an `embedded-nal-async` stack: resolves the
/// host with [`Dns`] (IP literals skip DNS) and connects with [`TcpConnect`].
/// Refuses `https`/`wss` URLs with [`ConnectError::TlsUnavailable`].
pub struct TcpConnector<'a, T, D> {
    tcp: &'a T,
    dns: &'a D,
}

impl<'a, T: TcpConnect, D: Dns> TcpConnector<'a, T, D> {
    /// A connector over the given TCP stack and resolver.
    pub fn new(tcp: &'a T, dns: &'a D) -> Self {
        Self { tcp, dns }
    }

    /// Resolves `url`'s host (or parses it as an IP literal) and opens a TCP
    /// connection, regardless of the scheme. TLS connectors call this.
    pub async fn connect_tcp(&self, url: &Url<'_>) -> Result<T::Connection<'a>, ConnectError> {
        let ip = match url.host.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => self
                .dns
                .get_host_by_name(url.host, AddrType::Either)
                .await
                .map_err(|_| ConnectError::Dns)?,
        };
        let tcp: &'a T = self.tcp;
        tcp.connect(SocketAddr::new(ip, url.port))
            .await
            .map_err(|e| ConnectError::Io(e.kind()))
    }
}

impl<'a, T: TcpConnect, D: Dns> Connect for TcpConnector<'a, T, D> {
    type Connection = T::Connection<'a>;

    async fn connect(&mut self, url: &Url<'_>) -> Result<Self::Connection, ConnectError> {
        if url.scheme.is_secure() {
            return Err(ConnectError::TlsUnavailable);
        }
        self.connect_tcp(url).await
    }
}
