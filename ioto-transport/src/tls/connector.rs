//! What the MQTT and HTTP connectors share: the record-buffer slot, the trusted CAs,
//! the randomness, the clock, the record size to ask for and the last error — and
//! [`Trust::open`], the one sequence both run on every connect (lease the buffers,
//! check the configuration, open TCP, verified handshake).

use core::cell::{Cell, RefCell};
use core::future::Future;

use embedded_io_async::{Read, Write};

use super::{
    CryptoRngCore, LeasedTlsStream, MaxFragmentLength, TlsBuffers, TlsConfig, TlsError, UnixTime,
};

/// Why [`Trust::open`] failed: opening TCP (the connector's own error) or TLS.
pub(super) enum OpenError<E> {
    /// The TCP connect failed.
    Tcp(E),
    /// Leasing, configuration, or the handshake failed.
    Tls(TlsError),
}

impl<E> From<TlsError> for OpenError<E> {
    fn from(e: TlsError) -> Self {
        OpenError::Tls(e)
    }
}

/// The TLS side of a connector, apart from TCP.
pub(super) struct Trust<'a, R, K> {
    buffers: &'a TlsBuffers<'a>,
    ca: &'a [u8],
    rng: RefCell<R>,
    clock: K,
    /// Record size to ask servers for (RFC 6066), if any.
    pub max_fragment_length: Option<MaxFragmentLength>,
    /// The TLS error of the most recent connect, if it failed in TLS.
    pub last_error: Cell<Option<TlsError>>,
}

impl<'a, R, K> Trust<'a, R, K> {
    /// Buffers from `buffers`, chains checked against `ca`, randomness from `rng`, time
    /// from `clock`.
    pub fn new(buffers: &'a TlsBuffers<'a>, ca: &'a [u8], rng: R, clock: K) -> Self {
        Self {
            buffers,
            ca,
            rng: RefCell::new(rng),
            clock,
            max_fragment_length: None,
            last_error: Cell::new(None),
        }
    }
}

impl<'a, R: CryptoRngCore, K: UnixTime> Trust<'a, R, K> {
    /// Leases the record buffers and checks the configuration for `server_name` (with
    /// `alpn`, if any) before any I/O — a busy slot, an unset clock, a bad name or an
    /// unusable CA fail here — then awaits `tcp` and runs the verified handshake over
    /// it. The lease ends with the connection.
    // The RNG stays borrowed for the whole handshake (the TLS engine draws from it while
    // building the ClientHello). The borrow is `try_borrow_mut`, so an overlapping
    // connect gets a typed error rather than a panic, and the buffers lease taken just
    // before already excludes overlapping connects on one connector.
    #[allow(clippy::await_holding_refcell_ref)]
    pub async fn open<S: Read + Write + 'a, E>(
        &self,
        server_name: &str,
        alpn: Option<&[&[u8]]>,
        tcp: impl Future<Output = Result<S, E>>,
    ) -> Result<LeasedTlsStream<'a, S>, OpenError<E>> {
        let buffers: &'a TlsBuffers<'a> = self.buffers;
        let lease = buffers.lease()?;
        let mut rng = self
            .rng
            .try_borrow_mut()
            .map_err(|_| TlsError::BuffersBusy)?;
        let config = TlsConfig {
            max_fragment_length: self.max_fragment_length,
            alpn,
            ..TlsConfig::new(self.ca, server_name, self.clock.now_unix())
        };
        super::validate(&config)?;
        let tcp = tcp.await.map_err(OpenError::Tcp)?;
        Ok(LeasedTlsStream::connect(tcp, &config, &mut *rng, lease).await?)
    }
}
