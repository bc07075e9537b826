//! [`TlsHttpConnector`]: the HTTP and WebSocket clients' [`Connect`] over verified TLS.

use embedded_io::Error as _;
use embedded_io_async::{ErrorType, Read, Write};
use embedded_nal_async::{Dns, TcpConnect};

use super::connector::{OpenError, Trust};
use super::{CryptoRngCore, LeasedTlsStream, MaxFragmentLength, TlsBuffers, TlsError, UnixTime};
use crate::http::{Connect, ConnectError, TcpConnector, Url};

/// What a [`TlsHttpConnector`] does with plain `http://` and `ws://` URLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainPolicy {
    /// Refuse them with [`ConnectError::PlainRefused`] (the default): nothing leaves
    /// the device unencrypted, even after a redirect to `http://`.
    Refuse,
    /// Open plain TCP for them. Only for servers you explicitly trust to be local
    /// (a gateway on the LAN, a loopback test server).
    AllowPlain,
}

/// `https://` and `wss://` over TLS 1.3 for [`HttpClient`](crate::http::HttpClient) and
/// [`ws::connect`](crate::ws::connect): opens TCP with a [`TcpConnector`], then
/// performs the verified handshake of [`connect`](super::connect) against `ca`, with
/// the URL's host as the server name (SNI and certificate name check). The record
/// buffers are leased from a [`TlsBuffers`] for as long as the connection lives; the
/// HTTP client drops its previous connection before opening the next one.
///
/// Plain `http://` / `ws://` URLs are refused unless the connector was built with
/// [`PlainPolicy::AllowPlain`] ([`allow_plain`](Self::allow_plain)).
///
/// Failures become [`ConnectError::Tls`] with [`TlsError::reason`] as the text
/// (I/O errors during the handshake become [`ConnectError::Io`]); the full
/// [`TlsError`] of the latest attempt is kept in [`last_error`](Self::last_error).
pub struct TlsHttpConnector<'a, T, D, R, K> {
    tcp: TcpConnector<'a, T, D>,
    trust: Trust<'a, R, K>,
    plain: PlainPolicy,
}

impl<'a, T, D, R, K> TlsHttpConnector<'a, T, D, R, K> {
    /// A TLS-only connector (plain URLs refused) trusting `ca` (DER, or PEM with one or
    /// more certificates).
    pub fn new(
        tcp: TcpConnector<'a, T, D>,
        buffers: &'a TlsBuffers<'a>,
        ca: &'a [u8],
        rng: R,
        clock: K,
    ) -> Self {
        Self {
            tcp,
            trust: Trust::new(buffers, ca, rng, clock),
            plain: PlainPolicy::Refuse,
        }
    }

    /// Also opens plain TCP for `http://` and `ws://` URLs ([`PlainPolicy::AllowPlain`]).
    #[must_use]
    pub fn allow_plain(mut self) -> Self {
        self.plain = PlainPolicy::AllowPlain;
        self
    }

    /// The policy for plain URLs.
    pub fn plain_policy(&self) -> PlainPolicy {
        self.plain
    }

    /// Asks servers for records of at most `mfl` so a smaller read buffer suffices
    /// (see [`TlsConfig::max_fragment_length`]).
    ///
    /// [`TlsConfig::max_fragment_length`]: super::TlsConfig::max_fragment_length
    #[must_use]
    pub fn with_max_fragment_length(mut self, mfl: MaxFragmentLength) -> Self {
        self.trust.max_fragment_length = Some(mfl);
        self
    }

    /// The TLS error of the most recent connect, if it failed in TLS.
    pub fn last_error(&self) -> Option<TlsError> {
        self.trust.last_error.get()
    }
}

impl<'a, T: TcpConnect, D: Dns, R: CryptoRngCore, K: UnixTime> Connect
    for TlsHttpConnector<'a, T, D, R, K>
{
    type Connection = HttpsStream<'a, T::Connection<'a>>;

    async fn connect(&mut self, url: &Url<'_>) -> Result<Self::Connection, ConnectError> {
        self.trust.last_error.set(None);
        if !url.scheme.is_secure() {
            return match self.plain {
                PlainPolicy::Refuse => Err(ConnectError::PlainRefused),
                PlainPolicy::AllowPlain => Ok(HttpsStream::Plain(self.tcp.connect_tcp(url).await?)),
            };
        }
        match self
            .trust
            .open(url.host, None, self.tcp.connect_tcp(url))
            .await
        {
            Ok(stream) => Ok(HttpsStream::Tls(stream)),
            Err(OpenError::Tcp(e)) => Err(e),
            Err(OpenError::Tls(e)) => {
                self.trust.last_error.set(Some(e));
                Err(match e {
                    TlsError::Io(kind) => ConnectError::Io(kind),
                    other => ConnectError::Tls(other.reason()),
                })
            }
        }
    }

    /// Sends `close_notify` on a TLS connection, then drops it.
    async fn close(&mut self, connection: Self::Connection) {
        if let HttpsStream::Tls(stream) = connection {
            // A failed alert leaves nothing to do: the connection is dropped either way.
            let _ = stream.close().await;
        }
    }
}

impl<T, D, R, K> core::fmt::Debug for TlsHttpConnector<'_, T, D, R, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsHttpConnector")
            .field("plain", &self.plain)
            .field("last_error", &self.last_error())
            .finish_non_exhaustive()
    }
}

/// A [`TlsHttpConnector`] connection: verified TLS, or plain TCP when the connector
/// allows plain URLs. Errors of either are [`TlsError`]s (plain TCP errors as
/// [`TlsError::Io`]).
// Without an allocator the TLS state cannot be boxed; it is the common variant anyway.
#[allow(clippy::large_enum_variant)]
pub enum HttpsStream<'b, S: Read + Write> {
    /// Plain TCP (an `http://` / `ws://` URL on a connector that allows it).
    Plain(S),
    /// Verified TLS.
    Tls(LeasedTlsStream<'b, S>),
}

impl<S: Read + Write> HttpsStream<'_, S> {
    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }
}

impl<S: Read + Write> ErrorType for HttpsStream<'_, S> {
    type Error = TlsError;
}

impl<S: Read + Write> Read for HttpsStream<'_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        match self {
            Self::Plain(s) => s.read(buf).await.map_err(|e| TlsError::Io(e.kind())),
            Self::Tls(s) => s.read(buf).await,
        }
    }
}

impl<S: Read + Write> Write for HttpsStream<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        match self {
            Self::Plain(s) => s.write(buf).await.map_err(|e| TlsError::Io(e.kind())),
            Self::Tls(s) => s.write(buf).await,
        }
    }

    async fn flush(&mut self) -> Result<(), TlsError> {
        match self {
            Self::Plain(s) => s.flush().await.map_err(|e| TlsError::Io(e.kind())),
            Self::Tls(s) => s.flush().await,
        }
    }
}
