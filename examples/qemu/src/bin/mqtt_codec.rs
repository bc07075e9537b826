//! MQTT on target: hand-written spec vectors, malformed input and an encode/decode
//! round trip of every packet type, MQTT 3.1.1 and 5.0; and the client itself while
//! the broker is unreachable (offline queue policy, reconnect backoff). No network: the
//! bytes never leave RAM. `cargo xtask hil-test` runs it on every virtual board.
#![no_std]
#![no_main]

use core::cell::Cell;
use embedded_io::ErrorKind;
use ioto_board_qemu::{entry, harness, tests};
use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};
use ioto_core::{Clock, Instant};
use ioto_transport::mqtt::client::{
    Backoff, Buffers, Client, ClientConfig, ConnectFailure, Event, Publication, PublishOptions,
};
use ioto_transport::mqtt::connector::Connector;
use ioto_transport::mqtt::{ProtocolVersion, QoS};

#[path = "mqtt_common/xorshift.rs"]
mod xorshift;

use xorshift::XorShift;

// The cases shared with the host test `ioto-transport/tests/mqtt_codec.rs`.
#[allow(dead_code)]
mod codec_cases {
    include!("../../../../ioto-transport/tests/mqtt_support/codec_cases.rs");
}

fn spec_vectors() {
    let mut buf = [0u8; 64];
    assert_eq!(codec_cases::check_spec_vectors(&mut buf), 8);
}

fn malformed_input() {
    assert_eq!(codec_cases::check_malformed(), 10);
}

fn round_trip_v311() {
    let (mut a, mut b) = ([0u8; 1024], [0u8; 1024]);
    assert_eq!(
        codec_cases::round_trip_all(ProtocolVersion::V3_1_1, &mut a, &mut b),
        19
    );
}

fn round_trip_v5() {
    let (mut a, mut b) = ([0u8; 1024], [0u8; 1024]);
    assert_eq!(
        codec_cases::round_trip_all(ProtocolVersion::V5, &mut a, &mut b),
        19
    );
}

/// Simulated time shared by the clock and the delay: a delay just moves it forward.
struct SimClock<'a>(&'a Cell<u64>);
struct SimDelay<'a>(&'a Cell<u64>);

impl Clock for SimClock<'_> {
    fn now(&self) -> Instant {
        Instant(self.0.get())
    }
}

impl embedded_hal_async::delay::DelayNs for SimDelay<'_> {
    async fn delay_ns(&mut self, ns: u32) {
        self.0.set(self.0.get() + u64::from(ns).div_ceil(1_000));
    }
}

/// A network where the broker refuses every connection (the error path under test;
/// the stream type is never constructed).
struct Refused;
struct NoStream;

impl embedded_io::ErrorType for NoStream {
    type Error = ErrorKind;
}

impl embedded_io_async::Read for NoStream {
    async fn read(&mut self, _buf: &mut [u8]) -> Result<usize, ErrorKind> {
        Err(ErrorKind::NotConnected)
    }
}

impl embedded_io_async::Write for NoStream {
    async fn write(&mut self, _buf: &[u8]) -> Result<usize, ErrorKind> {
        Err(ErrorKind::NotConnected)
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Err(ErrorKind::NotConnected)
    }
}

impl Connector for Refused {
    type Error = ErrorKind;
    type Connection<'c> = NoStream;

    async fn connect(&self) -> Result<NoStream, ErrorKind> {
        Err(ErrorKind::ConnectionRefused)
    }
}

fn client_offline_queue_and_backoff() {
    let now = Cell::new(0u64);
    let (mut rx, mut tx, mut inflight, mut ids, mut queue_mem) =
        ([0u8; 256], [0u8; 256], [0u8; 512], [0u16; 4], [0u8; 128]);
    let buffers = Buffers {
        rx: &mut rx,
        tx: &mut tx,
        inflight: &mut inflight,
        incoming_qos2: &mut ids,
    };
    let queue = OfflineQueue::new(RamQueue::new(&mut queue_mem, 3), QueuePolicy::DropOldest);
    let mut cfg = ClientConfig::new(ProtocolVersion::V5, "qemu");
    cfg.backoff = Backoff {
        base_ms: 100,
        max_ms: 1_000,
    };
    let mut c = Client::new(
        cfg,
        &Refused,
        buffers,
        queue,
        SimDelay(&now),
        SimClock(&now),
        XorShift(0x1234_5678),
    );
    embassy_futures::block_on(async {
        for i in 0..5u8 {
            let p = c
                .publish("dev/t", &[i], QoS::AtLeastOnce, &PublishOptions::default())
                .await;
            assert_eq!(p, Ok(Publication::Queued));
        }
        assert_eq!(c.queue().len(), 3);
        assert_eq!(c.queue().dropped(), 2);
        let mut last = now.get();
        for attempt in 0..8u32 {
            let ev = c.poll().await.map(|e| {
                e == Event::ConnectFailed(ConnectFailure::Connect(ErrorKind::ConnectionRefused))
            });
            assert_eq!(ev, Ok(true));
            let waited_us = now.get() - last;
            last = now.get();
            let ceiling_us = if attempt == 0 {
                0
            } else {
                u64::from(cfg.backoff.ceiling_ms(attempt - 1)) * 1_000
            };
            assert!(
                waited_us <= ceiling_us,
                "attempt {attempt} waited {waited_us} us > {ceiling_us}"
            );
        }
        // Full jitter over ceilings 100, 200, 400, 800, 1000... ms: the client did wait.
        assert!(now.get() > 100_000, "waited only {} us in total", now.get());
        assert!(!c.is_connected());
        assert_eq!(c.queue().len(), 3);
    });
}

#[entry]
fn main() -> ! {
    let suite = tests![
        spec_vectors,
        malformed_input,
        round_trip_v311,
        round_trip_v5,
        client_offline_queue_and_backoff
    ];
    harness::run("mqtt_codec", suite)
}
