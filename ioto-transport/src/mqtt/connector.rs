//! How the client opens a byte stream to the broker. [`TcpConnector`] resolves a host
//! name and opens TCP through `embedded-nal-async`; `tls::TlsMqttConnector` (feature
//! `tls`) wraps a TCP one and implements the same trait for `mqtts://`.

use core::net::{IpAddr, SocketAddr};
use embedded_io_async::{Read, Write};
use embedded_nal_async::{AddrType, Dns, TcpConnect};

/// Opens a new connection to the broker each time the client (re)connects.
#[allow(async_fn_in_trait)]
pub trait Connector {
    /// Why opening failed (DNS, TCP, TLS handshake).
    type Error: embedded_io::Error;
    /// The byte stream.
    type Connection<'c>: Read + Write
    where
        Self: 'c;

    /// Opens a connection.
    async fn connect(&self) -> Result<Self::Connection<'_>, Self::Error>;

    /// Ends `connection` cleanly before it is dropped (the client calls it from
    /// `disconnect`). A TLS connector sends `close_notify` (RFC 8446 §6.1); the default
    /// just drops the stream (closing TCP).
    async fn close<'c>(&'c self, connection: Self::Connection<'c>) {
        drop(connection);
    }
}

/// Failure of [`TcpConnector`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
    /// The host name did not resolve.
    Dns,
    /// The TCP connect failed.
    Tcp(embedded_io::ErrorKind),
}

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NetError::Dns => f.write_str("host name did not resolve"),
            NetError::Tcp(kind) => write!(f, "TCP connect failed: {kind:?}"),
        }
    }
}

impl core::error::Error for NetError {}

impl embedded_io::Error for NetError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            NetError::Dns => embedded_io::ErrorKind::AddrNotAvailable,
            NetError::Tcp(kind) => *kind,
        }
    }
}

/// Plain TCP to `host:port`, resolving `host` (a name or an IP literal) on every
/// connect so a broker that moved is found again.
#[derive(Debug)]
pub struct TcpConnector<'n, T, D> {
    stack: &'n T,
    dns: &'n D,
    host: &'n str,
    port: u16,
}

impl<'n, T: TcpConnect, D: Dns> TcpConnector<'n, T, D> {
    /// Connects through `stack`, resolving with `dns`.
    pub const fn new(stack: &'n T, dns: &'n D, host: &'n str, port: u16) -> Self {
        TcpConnector {
            stack,
            dns,
            host,
            port,
        }
    }
}

impl<'n, T: TcpConnect, D: Dns> Connector for TcpConnector<'n, T, D> {
    type Error = NetError;
    type Connection<'c>
        = T::Connection<'n>
    where
        Self: 'c;

    async fn connect(&self) -> Result<Self::Connection<'_>, Self::Error> {
        let ip = match self.host.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => self
                .dns
                .get_host_by_name(self.host, AddrType::Either)
                .await
                .map_err(|_| NetError::Dns)?,
        };
        let addr = SocketAddr::new(ip, self.port);
        self.stack
            .connect(addr)
            .await
            .map_err(|e| NetError::Tcp(embedded_io::Error::kind(&e)))
    }
}
