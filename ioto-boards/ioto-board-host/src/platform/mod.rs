//! The host platform in one place: what a microcontroller board gives the `no_std`
//! libraries (time, randomness, delays, a network stack), backed by `std` and tokio,
//! and the HTTP transports the cloud clients run on here.
//!
//! | part | here | the libraries see it as |
//! |---|---|---|
//! | monotonic time | [`HostClock`] | `ioto_core::Clock` |
//! | wall-clock time | [`unix_time`] | certificate validity (`ioto_transport::tls::UnixTime`) |
//! | randomness | [`HostEntropy`]; [`OsRng`] for TLS | `ioto_core::Entropy`; `rand_core::CryptoRngCore` |
//! | delays | [`HostDelay`] (never blocks its thread) | `embedded_hal_async::delay::DelayNs` |
//! | TCP and DNS | [`TokioNet`] | `embedded_nal_async::{TcpConnect, Dns}` |
//! | HTTP timeouts | [`HostTimer`] ([`timer`]) | `ioto_transport::http::Timer` |
//! | HTTP for ioto-cloud | [`PlainHttp`] ([`plain_http`]), [`https`] over [`TlsConnector`]; [`StdHttp`] (blocking, single-task tools) | `ioto_cloud::transport::HttpTransport` |
//!
//! [`TokioNet`] needs a tokio runtime with I/O enabled; everything else runs under any
//! executor.
//!
//! ```
//! use ioto_board_host::platform::{HostClock, HostDelay, HostEntropy};
//! use ioto_cloud::client::{Api, Client, ClientConfig};
//! use ioto_cloud::{Secret, endpoint::Endpoint};
//!
//! // A cloud client for a local server, over tokio TCP, with non-blocking retry waits.
//! let endpoint = Endpoint::local("http://127.0.0.1:8080/v1").unwrap();
//! let cfg = ClientConfig::new(endpoint, Api::OpenAi, Secret::new(""));
//! let http = ioto_board_host::platform::plain_http();
//! let client = Client::new(http, HostClock::new(), HostDelay, cfg)
//!     .with_entropy(&mut HostEntropy::default());
//! # drop(client);
//! ```

mod delay;
mod net;
mod std_http;

use std::time::Instant as StdInstant;

use ioto_cloud::transport::IotoHttp;
use ioto_core::{Clock, Entropy, Instant};
use ioto_transport::http::{ClockDelay, HttpClient, TcpConnector};
use ioto_transport::tls::{TlsBuffers, TlsHttpConnector};
use rand_core::RngCore;

pub use delay::{HostDelay, Sleep};
pub use net::TokioNet;
/// The operating system's CSPRNG (`getrandom`): the randomness of TLS handshakes.
pub use rand_core::OsRng;
pub use std_http::{StdBody, StdHttp};

/// A monotonic clock counting from its creation, over `std::time::Instant`.
#[derive(Clone, Copy, Debug)]
pub struct HostClock {
    start: StdInstant,
}

impl HostClock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        Self {
            start: StdInstant::now(),
        }
    }
}

impl Default for HostClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for HostClock {
    fn now(&self) -> Instant {
        let micros = self.start.elapsed().as_micros();
        Instant(u64::try_from(micros).unwrap_or(u64::MAX))
    }
}

/// Seconds since the Unix epoch from the system clock (0 if the clock is before it):
/// the time source for certificate validity on a host.
pub fn unix_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Entropy from the operating system ([`OsRng`]), falling back to a time-seeded
/// xorshift only if the OS cannot give any (not of cryptographic quality).
#[derive(Debug, Default)]
pub struct HostEntropy {
    fallback: u64,
}

impl Entropy for HostEntropy {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        if OsRng.try_fill_bytes(buf).is_ok() {
            return;
        }
        if self.fallback == 0 {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x9E37_79B9_7F4A_7C15);
            self.fallback = t | 1;
        }
        for b in buf {
            let mut x = self.fallback;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.fallback = x;
            *b = x as u8;
        }
    }
}

/// Read and overall timeouts of ioto-transport's HTTP client on the host.
pub type HostTimer = ClockDelay<HostClock, HostDelay>;

/// A [`HostTimer`] starting now.
pub fn timer() -> HostTimer {
    ClockDelay {
        clock: HostClock::new(),
        delay: HostDelay,
    }
}

/// Response-head buffer of the host's HTTP transports (bytes; also bounds the head).
pub const HEAD_BYTES: usize = 4096;

/// ioto-cloud over ioto-transport's HTTP client on tokio TCP, plain HTTP: the
/// non-blocking transport for local (`Endpoint::local`) servers. An `https://`
/// endpoint fails with `TransportError::Tls` (use [`https`]).
pub type PlainHttp = IotoHttp<TcpConnector<'static, TokioNet, TokioNet>, HostTimer>;

/// A [`PlainHttp`].
pub fn plain_http() -> PlainHttp {
    let tcp = TcpConnector::new(&TokioNet, &TokioNet);
    IotoHttp::new(HttpClient::new(tcp, timer()), HEAD_BYTES)
}

/// ioto-transport's verified TLS 1.3 connector on tokio TCP, with the OS's randomness
/// and the system clock.
pub type TlsConnector<'a> = TlsHttpConnector<'a, TokioNet, TokioNet, OsRng, fn() -> u64>;

/// A [`TlsConnector`] trusting the certificates in `ca` (PEM or DER), on `buffers`.
pub fn tls_connector<'a>(buffers: &'a TlsBuffers<'a>, ca: &'a [u8]) -> TlsConnector<'a> {
    let tcp = TcpConnector::new(&TokioNet, &TokioNet);
    TlsHttpConnector::new(tcp, buffers, ca, OsRng, unix_time)
}

/// ioto-cloud's HTTPS transport over `connector` (borrowed, so its
/// [`last_error`](TlsHttpConnector::last_error) can be read after a failure).
pub fn https<'c, 'a>(
    connector: &'c mut TlsConnector<'a>,
) -> IotoHttp<&'c mut TlsConnector<'a>, HostTimer> {
    IotoHttp::new(HttpClient::new(connector, timer()), HEAD_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic() {
        let c = HostClock::new();
        let a = c.now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = c.now();
        assert!(b.micros_since(a) >= 2_000);
    }

    #[test]
    fn entropy_differs_between_draws() {
        let mut e = HostEntropy::default();
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        e.fill_bytes(&mut a);
        e.fill_bytes(&mut b);
        assert_ne!(a, b);
    }
}
