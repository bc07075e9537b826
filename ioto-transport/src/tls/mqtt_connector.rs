//! [`TlsMqttConnector`]: the MQTT client's [`Connector`] over verified TLS.

use embedded_io::ErrorKind;
use embedded_nal_async::{Dns, TcpConnect};

use super::connector::{OpenError, Trust};
use super::{CryptoRngCore, LeasedTlsStream, MaxFragmentLength, TlsBuffers, TlsError, UnixTime};
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
    trust: Trust<'a, R, K>,
    server_name: &'a str,
    alpn: Option<&'a [&'a [u8]]>,
}

impl<'a, T, D, R, K> TlsMqttConnector<'a, T, D, R, K> {
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
            server_name,
            alpn: None,
            tcp,
            trust: Trust::new(buffers, ca, rng, clock),
        }
    }

    /// Asks the broker for records of at most `mfl` so a smaller read buffer
    /// suffices (see [`TlsConfig::max_fragment_length`]).
    ///
    /// [`TlsConfig::max_fragment_length`]: super::TlsConfig::max_fragment_length
    #[must_use]
    pub fn with_max_fragment_length(mut self, mfl: MaxFragmentLength) -> Self {
        self.trust.max_fragment_length = Some(mfl);
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
        self.trust.last_error.get()
    }
}

impl<'a, T: TcpConnect, D: Dns, R: CryptoRngCore, K: UnixTime> Connector
    for TlsMqttConnector<'a, T, D, R, K>
{
    type Error = TlsError;
    type Connection<'c>
        = LeasedTlsStream<'a, T::Connection<'a>>
    where
        Self: 'c;

    async fn connect(&self) -> Result<Self::Connection<'_>, TlsError> {
        let tcp = self.tcp.connect();
        let result = match self.trust.open(self.server_name, self.alpn, tcp).await {
            Ok(stream) => Ok(stream),
            Err(OpenError::Tcp(NetError::Dns)) => Err(TlsError::Io(ErrorKind::AddrNotAvailable)),
            Err(OpenError::Tcp(NetError::Tcp(kind))) => Err(TlsError::Io(kind)),
            Err(OpenError::Tls(e)) => Err(e),
        };
        self.trust.last_error.set(result.as_ref().err().copied());
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
            .field("last_error", &self.last_error())
            .finish_non_exhaustive()
    }
}
