//! The client's retry waits: full jitter from `ioto_core::backoff::Backoff`, seeded per
//! device, under the backoff ceiling, `Retry-After` winning (capped). The waits are
//! observed through the client's real retry loop with a recording delay.
#![allow(clippy::unwrap_used, missing_docs)]

use embedded_hal_async::delay::DelayNs;
use ioto_cloud::Secret;
use ioto_cloud::chat::ChatRequest;
use ioto_cloud::client::{Api, Client, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::resilience::RetryPolicy;
use ioto_cloud::transport::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use ioto_core::backoff::Backoff;
use ioto_core::{Clock, Entropy, Instant};
use std::cell::Cell;

/// Connects always fail (retryable), or every answer is 429 with `Retry-After`.
struct Failing<'a> {
    retry_after: Option<u32>,
    sent: &'a Cell<u32>,
}

impl HttpTransport for Failing<'_> {
    type Body<'b>
        = &'static [u8]
    where
        Self: 'b;

    async fn send<'b>(
        &'b mut self,
        _req: &HttpRequest<'_>,
    ) -> Result<HttpResponse<Self::Body<'b>>, TransportError> {
        self.sent.set(self.sent.get() + 1);
        match self.retry_after {
            None => Err(TransportError::Connect),
            Some(s) => Ok(HttpResponse {
                status: 429,
                retry_after: Some(s),
                body: b"{}",
            }),
        }
    }
}

struct Frozen;
impl Clock for Frozen {
    fn now(&self) -> Instant {
        Instant(0)
    }
}

/// Records every wait instead of sleeping.
#[derive(Default)]
struct Waits(Vec<u32>);
impl DelayNs for &mut Waits {
    async fn delay_ns(&mut self, _ns: u32) {}
    async fn delay_ms(&mut self, ms: u32) {
        self.0.push(ms);
    }
}

const POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 6,
    backoff: Backoff {
        base_ms: 100,
        max_ms: 1_000,
    },
};

fn config(seed: u64) -> ClientConfig {
    let mut cfg = ClientConfig::new(
        Endpoint::local("http://127.0.0.1:9/v1").unwrap(),
        Api::OpenAi,
        Secret::new(""),
    );
    cfg.retry = POLICY;
    cfg.jitter_seed = seed;
    cfg
}

/// The waits of one failing call and the number of requests sent.
fn waits_with(seed: u64, retry_after: Option<u32>) -> (Vec<u32>, u32) {
    let sent = Cell::new(0);
    let mut waits = Waits::default();
    let transport = Failing {
        retry_after,
        sent: &sent,
    };
    let mut c = Client::new(transport, Frozen, &mut waits, config(seed));
    let err = embassy_futures::block_on(c.call(&ChatRequest::new("m"), None)).unwrap_err();
    assert!(RetryPolicy::retryable(&err), "{err:?}");
    drop(c);
    (waits.0, sent.get())
}

#[test]
fn jittered_waits_differ_between_seeds_and_stay_under_the_ceiling() {
    let (a, sent) = waits_with(1, None);
    let (b, _) = waits_with(0xDEAD_BEEF_0BAD_F00D, None);
    assert_eq!(sent, 6, "max_attempts sends in total");
    assert_eq!(a.len(), 5, "one wait between two attempts");
    assert_ne!(a, b, "two devices must not retry in step");
    // Ceilings 100·2ⁿ capped at 1000, by hand: 100, 200, 400, 800, 1000.
    let ceilings = [100, 200, 400, 800, 1_000];
    for w in [&a, &b] {
        for (ms, ceiling) in w.iter().zip(ceilings) {
            assert!(*ms <= ceiling, "{w:?}");
        }
    }
    // Same seed, same waits (the sequence comes from the seed alone).
    assert_eq!(waits_with(1, None).0, a);
}

#[test]
fn retry_after_wins_over_jitter_and_is_capped() {
    let (w, _) = waits_with(7, Some(0));
    assert_eq!(w, [0; 5]);
    // 3 s from the server, capped at the policy's 1 s maximum.
    let (w, _) = waits_with(7, Some(3));
    assert_eq!(w, [1_000; 5]);
    assert_eq!(POLICY.delay_ms(2, Some(0), u32::MAX), Some(0));
    assert_eq!(POLICY.delay_ms(6, None, 5), None, "no attempts left");
}

#[test]
fn entropy_reseeds_the_jitter() {
    struct Bytes(u8);
    impl Entropy for Bytes {
        fn fill_bytes(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }
    struct NoDelay;
    impl DelayNs for NoDelay {
        async fn delay_ns(&mut self, _ns: u32) {}
    }
    let sent = Cell::new(0);
    let delays = |b: u8| {
        let t = Failing {
            retry_after: None,
            sent: &sent,
        };
        let mut c = Client::new(t, Frozen, NoDelay, config(0)).with_entropy(&mut Bytes(b));
        (1..=6)
            .map(|n| c.retry_delay_ms(n, None))
            .collect::<Vec<_>>()
    };
    let (x, y) = (delays(1), delays(2));
    assert_ne!(x, y);
    assert!(x[..5].iter().all(Option::is_some));
    assert_eq!(x[5], None, "no wait after the last attempt");
    assert_eq!(sent.get(), 0);
}

/// A retry wait on the host platform's delay yields to the executor: another task of
/// the same thread keeps running while the client waits out `Retry-After`. (The old
/// `client::StdDelay` slept the thread inside the async fn: no tick before the wait
/// was over.)
#[test]
fn a_retry_wait_lets_the_other_tasks_of_its_thread_run() {
    use embassy_futures::join::join;
    use ioto_board_host::platform::{HostClock, HostDelay};
    use std::time::{Duration, Instant as StdInstant};

    let sent = Cell::new(0);
    let transport = Failing {
        retry_after: Some(1),
        sent: &sent,
    };
    let mut cfg = config(0);
    cfg.retry.max_attempts = 2;
    let mut c = Client::new(transport, HostClock::new(), HostDelay, cfg);
    let start = StdInstant::now();
    let req = ChatRequest::new("m");
    let call = c.call(&req, None);
    let ticks = async {
        let mut at = Vec::new();
        for _ in 0..5 {
            HostDelay.delay_ms(10).await;
            at.push(start.elapsed());
        }
        at
    };
    let (answer, ticks) = embassy_futures::block_on(join(call, ticks));
    assert!(
        matches!(answer, Err(ioto_cloud::Error::Http { status: 429, .. })),
        "{answer:?}"
    );
    assert_eq!(sent.get(), 2, "one retry after the wait");
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was waited"
    );
    assert!(
        ticks.iter().all(|t| *t < Duration::from_millis(500)),
        "the other task stalled during the wait: {ticks:?}"
    );
}
