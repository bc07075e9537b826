//! [`TlsMqttConnector`]: the MQTT client's [`Connector`] over verified TLS.

use core::cell::{Cell, RefCell};

use embedded_nal_async::{Dns, TcpConnect};

use super::{
    CryptoRngCore, LeasedTlsStream, MaxFragmentLength, TlsBuffers, TlsConfig, TlsError, UnixTime,
};
use crate::mqtt::connector::{Connector, NetError, TcpConnector};

/// MQTT over TLS 1.3 (`mqtts://`, port 8883 by convention): each connect opens TCP with
/// a [`TcpConnector`], then performs the verified handshake of
/// [`connect`](super::connect) against `ca` for `server_name`, with the record buffers
/// leased from a [`TlsBuffers`].
///
/// * Time: [`UnixTime`] is read at every connect, so a clock set after start-up (SNTP)
///   is picked up on the next reconnect.
/// * Randomness: `rng` must be a cryptographically secure generator (the chip's TRNG
///   through its HAL's `rand_core` implementation, or a CSPRNG seeded from it).
/// * Failures: the [`Connector::Error`] is a [`TlsError`] (TCP failures become
///   [`TlsError::Io`]). The MQTT client reports only its [`embedded_io::ErrorKind`],
///   so the connector keeps the full reason for [`last_error`](Self::last_error); a
///   [`TlsError::is_verification_failure`] will not go away by reconnecting.
pub struct TlsMqttConnector<'a, T, D, R, K> {
    tcp: TcpConnector<'a, T, D>,
    buffers: &'a TlsBuffers<'a>,
    ca: &'a [u8],
    server_name: &'a str,
    rng: RefCell<R>,
    clock: K,
    max_fragment_length: Option<MaxFragmentLength>,
    alpn: Option<&'a [&'a [u8]]>,
    last_error: Cell<Option<TlsError>>,
}

impl<'a, T, D, R, K> TlsMqttConnector<'a, T, D, R, K>
where
    T: TcpConnect,
    D: Dns,
    R: CryptoRngCore,
    K: UnixTime,
{
    /// Connects through `tcp` and verifies the broker's certificate chain against `ca`
    /// (DER, or PEM with one or more certificates) and `server_name` (a DNS name or IP
    /// literal, usually the broker host name `tcp` connects to).
    pub fn new(
        tcp: TcpConnector<'a, T, D>,
        buffers: &'a TlsBuffers<'a>,
        ca: &'a [u8],
        server_name: &'a str,
        rng: R,
        clock: K,
    ) -> Self {
        Self {
            tcp,
            buffers,
            ca,
            server_name,
            rng: RefCell::new(rng),
            clock,
            max_fragment_length: None,
            alpn: None,
            last_error: Cell::new(None),
        }
    }

    /// Asks the broker for records of at most `mfl` so a smaller read buffer
    /// suffices (see [`TlsConfig::max_fragment_length`]).
    #[must_use]
    pub fn with_max_fragment_length(mut self, mfl: MaxFragmentLength) -> Self {
        self.max_fragment_length = Some(mfl);
        self
    }

    /// Offers these ALPN protocol names (e.g. `&[b"x-amzn-mqtt-ca"]` for MQTT on 443).
    #[must_use]
    pub fn with_alpn(mut self, protocols: &'a [&'a [u8]]) -> Self {
        self.alpn = Some(protocols);
        self
    }

    /// Why the most recent connect failed (`None` after a successful one).
    pub fn last_error(&self) -> Option<TlsError> {
        self.last_error.get()
    }

    // The RNG stays borrowed for the whole handshake (the TLS engine draws from it while
    // building the ClientHello). The borrow is `try_borrow_mut`, so an overlapping
    // connect gets a typed error rather than a panic, and the buffers lease taken just
    // before already excludes overlapping connects on one connector.
    #[allow(clippy::await_holding_refcell_ref)]
    async fn open(&self) -> Result<LeasedTlsStream<'a, T::Connection<'a>>, TlsError> {
        let buffers: &'a TlsBuffers<'a> = self.buffers;
        let lease = buffers.lease()?;
        let mut rng = self
            .rng
            .try_borrow_mut()
            .map_err(|_| TlsError::BuffersBusy)?;
        let config = TlsConfig {
            max_fragment_length: self.max_fragment_length,
            alpn: self.alpn,
            ..TlsConfig::new(self.ca, self.server_name, self.clock.now_unix())
        };
        super::validate(&config)?;
        let tcp = self.tcp.connect().await.map_err(|e| match e {
            NetError::Dns => TlsError::Io(embedded_io::ErrorKind::AddrNotAvailable),
            NetError::Tcp(kind) => TlsError::Io(kind),
        })?;
        LeasedTlsStream::connect(tcp, &config, &mut *rng, lease).await
    }
}

impl<'a, T, D, R, K> Connector for TlsMqttConnector<'a, T, D, R, K>
where
    T: TcpConnect,
    D: Dns,
    R: CryptoRngCore,
    K: UnixTime,
{
    type Error = TlsError;
    type Connection<'c>
        = LeasedTlsStream<'a, T::Connection<'a>>
    where
        Self: 'c;

    async fn connect(&self) -> Result<Self::Connection<'_>, TlsError> {
        let result = self.open().await;
        self.last_error.set(result.as_ref().err().copied());
        result
    }

    /// Sends `close_notify`, then drops the connection (freeing the buffers).
    async fn close<'c>(&'c self, connection: Self::Connection<'c>) {
        // A failed alert leaves nothing to do: the connection is dropped either way.
        let _ = connection.close().await;
    }
}

impl<T, D, R, K> core::fmt::Debug for TlsMqttConnector<'_, T, D, R, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsMqttConnector")
            .field("server_name", &self.server_name)
            .field("last_error", &self.last_error.get())
            .finish_non_exhaustive()
    }
}
