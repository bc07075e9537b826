//! The client driven in memory: a scripted broker connection, a clock that moves only
//! when the client waits, and a delay that yields once before it elapses (so a future
//! racing it can win). Byte vectors are written from the MQTT 3.1.1 specification.

extern crate std;

use super::{Buffers, Client, ClientConfig, DisconnectReason, Event, PublishOptions};
use crate::mqtt::connector::Connector;
use crate::mqtt::types::{ProtocolVersion, QoS};
use core::cell::{Cell, RefCell};
use core::future::{Future, poll_fn};
use core::pin::pin;
use core::task::Poll;
use embassy_futures::block_on;
use embassy_futures::select::{Either, select};
use embedded_hal_async::delay::DelayNs;
use embedded_io::ErrorKind;
use embedded_io_async::{ErrorType, Read, Write};
use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};
use ioto_core::{Clock, Entropy, Instant};
use std::collections::VecDeque;
use std::vec::Vec;

/// What the broker sends (`inbox`), what the client wrote (`outbox`); `closed` makes
/// reads return end of stream once the inbox is empty.
#[derive(Default)]
struct Wire {
    inbox: RefCell<VecDeque<u8>>,
    outbox: RefCell<Vec<u8>>,
    closed: Cell<bool>,
    now_us: Cell<u64>,
}

impl Wire {
    fn broker_sends(&self, bytes: &[u8]) {
        self.inbox.borrow_mut().extend(bytes);
    }

    fn written(&self) -> Vec<u8> {
        core::mem::take(&mut *self.outbox.borrow_mut())
    }
}

struct Stream<'w>(&'w Wire);

impl ErrorType for Stream<'_> {
    type Error = ErrorKind;
}

impl Read for Stream<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        poll_fn(|_| {
            let mut inbox = self.0.inbox.borrow_mut();
            if inbox.is_empty() {
                return if self.0.closed.get() {
                    Poll::Ready(Ok(0))
                } else {
                    // `block_on` polls again without a wake-up.
                    Poll::Pending
                };
            }
            let n = buf.len().min(inbox.len());
            for (slot, byte) in buf.iter_mut().zip(inbox.drain(..n)) {
                *slot = byte;
            }
            Poll::Ready(Ok(n))
        })
        .await
    }
}

impl Write for Stream<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.0.outbox.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl<'w> Connector for &'w Wire {
    type Error = ErrorKind;
    type Connection<'c>
        = Stream<'w>
    where
        Self: 'c;

    async fn connect(&self) -> Result<Stream<'w>, ErrorKind> {
        self.closed.set(false);
        Ok(Stream(self))
    }
}

/// Advances the wire's clock by the time asked for, after yielding once.
struct Delay<'w>(&'w Wire);

impl DelayNs for Delay<'_> {
    async fn delay_ns(&mut self, ns: u32) {
        let mut yielded = false;
        poll_fn(|_| {
            if core::mem::replace(&mut yielded, true) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        self.0
            .now_us
            .set(self.0.now_us.get() + u64::from(ns).div_ceil(1_000));
    }
}

struct WireClock<'w>(&'w Wire);

impl Clock for WireClock<'_> {
    fn now(&self) -> Instant {
        Instant(self.0.now_us.get())
    }
}

struct Zero;

impl Entropy for Zero {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        buf.fill(0);
    }
}

const CONNACK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];
const PUBACK_1: [u8; 4] = [0x40, 0x02, 0x00, 0x01];

/// Declares `$wire` and `$client` on it (MQTT 3.1.1) in the caller's scope.
macro_rules! client {
    ($client:ident, $wire:ident) => {
        let $wire = Wire::default();
        let connector: &Wire = &$wire;
        let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
        let (mut inflight, mut ids) = ([0u8; 512], [0u16; 4]);
        let buffers = Buffers {
            rx: &mut rx,
            tx: &mut tx,
            inflight: &mut inflight,
            incoming_qos2: &mut ids,
        };
        let mut queue_mem = [0u8; 512];
        let queue = OfflineQueue::new(RamQueue::new(&mut queue_mem, 8), QueuePolicy::Reject);
        let cfg = ClientConfig::new(ProtocolVersion::V3_1_1, "t");
        let mut $client = Client::new(
            cfg,
            &connector,
            buffers,
            queue,
            Delay(&$wire),
            WireClock(&$wire),
            Zero,
        );
    };
}

/// Polls `f` once: `Some` when it finished, `None` when it was pending and is dropped.
fn poll_once<F: Future>(f: F) -> Option<F::Output> {
    block_on(async {
        match select(pin!(f), core::future::ready(())).await {
            Either::First(out) => Some(out),
            Either::Second(()) => None,
        }
    })
}

/// The broker accepts the client's CONNECT: the next poll reports a new session.
async fn accept<'a, C: Connector + 'a>(
    client: &mut Client<'a, C, RamQueue<'_>, Delay<'_>, WireClock<'_>, Zero>,
    wire: &Wire,
) {
    wire.broker_sends(&CONNACK);
    let event = client.poll().await;
    let connected = Event::Connected {
        session_present: false,
    };
    assert_eq!(event, Ok(connected));
    assert!(client.is_connected());
}

#[test]
fn connects_acknowledges_and_reports_a_closed_connection() {
    client!(client, wire);
    block_on(async {
        accept(&mut client, &wire).await;
        assert_eq!(wire.written().first(), Some(&0x10), "CONNECT first");
        // QoS 1 PUBLISH, topic "a", packet id 7, payload "x".
        wire.broker_sends(&[0x32, 0x06, 0x00, 0x01, b'a', 0x00, 0x07, b'x']);
        let Ok(Event::Message(m)) = client.poll().await else {
            panic!("no message");
        };
        assert_eq!((m.topic, m.payload), ("a", &b"x"[..]));
        assert_eq!(wire.written(), [0x40, 0x02, 0x00, 0x07], "PUBACK");
        wire.closed.set(true);
        let event = client.poll().await;
        assert_eq!(event, Ok(Event::Disconnected(DisconnectReason::Closed)));
        assert!(!client.is_connected());
        assert_eq!(client.stats().disconnects, 1);
        accept(&mut client, &wire).await;
    });
}

#[test]
fn a_dropped_disconnect_leaves_the_connection_delivering() {
    client!(client, wire);
    block_on(async {
        accept(&mut client, &wire).await;
        let sent = client
            .publish("a", b"x", QoS::AtLeastOnce, &PublishOptions::default())
            .await;
        assert!(sent.is_ok(), "{sent:?}");
        // The publish is open, so `disconnect` waits for its PUBACK; it is dropped
        // while it waits.
        assert!(poll_once(client.disconnect()).is_none());
        wire.broker_sends(&PUBACK_1);
        wire.broker_sends(&[0x30, 0x04, 0x00, 0x01, b'b', b'y']);
        let event = client.poll_timeout(1_000).await;
        assert!(
            matches!(event, Ok(Some(Event::Published { packet_id: 1, .. }))),
            "{event:?}"
        );
        let event = client.poll_timeout(1_000).await;
        let Ok(Some(Event::Message(m))) = event else {
            panic!("message not delivered after a dropped disconnect: {event:?}");
        };
        assert_eq!((m.topic, m.payload), ("b", &b"y"[..]));
        assert!(client.is_connected());
    });
}
