//! Test doubles for the agent's ports: clocks, an uplink (acknowledges on the next
//! poll, can go offline, injects messages), an advisor, a delay, entropy, and an
//! outbox that logs what it accepted.

extern crate std;

use core::cell::{Cell, RefCell};
use std::string::String;
use std::vec::Vec;

use embassy_futures::yield_now;
use embedded_hal_async::delay::DelayNs;

use super::PERIOD_US;
use crate::Entropy;
use crate::advisor::{Advice, Advisor, Severity};
use crate::device::{Command, ToolSpec};
use crate::outbox::{Outbox, RamQueue};
use crate::time::{Clock, Instant};
use crate::uplink::{Delivery, Message, Uplink, UplinkEvent};

/// The sensor's clock: every read is the next sample at 400 Hz.
pub(super) struct SampleClock(pub(super) Cell<u64>);

impl Clock for SampleClock {
    fn now(&self) -> Instant {
        self.0.set(self.0.get() + PERIOD_US);
        Instant(self.0.get())
    }
}

/// The uplink task's clock: each look at it is one poll period (50 ms) later.
pub(super) struct PollClock(pub(super) Cell<u64>);

impl Clock for PollClock {
    fn now(&self) -> Instant {
        self.0.set(self.0.get() + 50_000);
        Instant(self.0.get())
    }
}

/// A message as the broker saw it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Seen {
    pub(super) topic: String,
    pub(super) payload: Vec<u8>,
    pub(super) retain: bool,
}

impl Seen {
    pub(super) fn text(&self) -> &str {
        core::str::from_utf8(&self.payload).unwrap()
    }
}

/// What the test and the uplink double share.
#[derive(Default)]
pub(super) struct LinkCtl {
    pub(super) online: Cell<bool>,
    pub(super) inject: RefCell<Option<(String, Vec<u8>)>>,
    pub(super) published: RefCell<Vec<Seen>>,
    pub(super) delivered: RefCell<Vec<Seen>>,
    pub(super) publishes_refused: Cell<u32>,
}

/// A broker link: refuses publishes while offline, acknowledges a QoS-1 publish on the
/// next poll, forgets unacknowledged publishes when the link drops (a lost session).
pub(super) struct DoubleUplink<'c> {
    pub(super) ctl: &'c LinkCtl,
    pub(super) was_online: bool,
    pub(super) next_ticket: u32,
    pub(super) pending: Vec<(u32, Seen)>,
    pub(super) held: (String, Vec<u8>),
}

impl<'c> DoubleUplink<'c> {
    /// A double on `ctl`, which is set online (the double connects on its first poll).
    pub(super) fn online(ctl: &'c LinkCtl) -> Self {
        ctl.online.set(true);
        Self {
            ctl,
            was_online: false,
            next_ticket: 0,
            pending: Vec::new(),
            held: (String::new(), Vec::new()),
        }
    }
}

impl Uplink for DoubleUplink<'_> {
    type Error = &'static str;

    async fn publish(&mut self, m: &Message<'_>) -> Result<Option<u32>, Self::Error> {
        if !self.ctl.online.get() {
            self.ctl
                .publishes_refused
                .set(self.ctl.publishes_refused.get() + 1);
            return Err("offline");
        }
        let seen = Seen {
            topic: m.topic.into(),
            payload: m.payload.to_vec(),
            retain: m.retain,
        };
        self.ctl.published.borrow_mut().push(seen.clone());
        match m.delivery {
            Delivery::AtMostOnce => {
                self.ctl.delivered.borrow_mut().push(seen);
                Ok(None)
            }
            Delivery::AtLeastOnce => {
                self.next_ticket += 1;
                self.pending.push((self.next_ticket, seen));
                Ok(Some(self.next_ticket))
            }
        }
    }

    async fn poll(&mut self, _max_wait_ms: u32) -> Result<Option<UplinkEvent<'_>>, Self::Error> {
        yield_now().await;
        let online = self.ctl.online.get();
        if online != self.was_online {
            self.was_online = online;
            if !online {
                self.pending.clear();
                return Ok(Some(UplinkEvent::Disconnected));
            }
            return Ok(Some(UplinkEvent::Connected));
        }
        if !online {
            return Ok(None);
        }
        if let Some(msg) = self.ctl.inject.borrow_mut().take() {
            self.held = msg;
            return Ok(Some(UplinkEvent::Command {
                topic: &self.held.0,
                payload: &self.held.1,
            }));
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let (ticket, seen) = self.pending.remove(0);
        self.ctl.delivered.borrow_mut().push(seen);
        Ok(Some(UplinkEvent::Delivered(ticket)))
    }

    fn is_connected(&self) -> bool {
        self.ctl.online.get()
    }
}

/// A cloud model that always advises halving the sensitivity (`level: 2.0`).
pub(super) struct DoubleAdvisor {
    pub(super) contexts: Vec<String>,
}

impl Advisor for DoubleAdvisor {
    type Error = ();

    async fn advise(&mut self, context: &str, tools: &[ToolSpec]) -> Result<Advice, ()> {
        assert!(tools.iter().any(|t| t.name == "set_sensitivity"));
        self.contexts.push(context.into());
        yield_now().await;
        let mut a = Advice::default();
        a.severity = Severity::Warning;
        a.tokens = 321;
        assert!(a.push_command(Command::SetSensitivity { level: 2.0 }));
        a.set_summary("imbalance suspected; fewer alarms until inspection");
        Ok(a)
    }
}

/// Waits by yielding once (time is the sensor's).
pub(super) struct YieldDelay;

impl DelayNs for YieldDelay {
    async fn delay_ns(&mut self, _ns: u32) {
        yield_now().await;
    }
}

pub(super) struct Counter(pub(super) u32);

impl Entropy for Counter {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *b = (self.0 >> 16) as u8;
        }
    }
}

/// An outbox that logs every record it accepted, in order.
pub(super) struct SpyOutbox<'a> {
    pub(super) inner: RamQueue<'a>,
    pub(super) pushed: &'a RefCell<Vec<Vec<u8>>>,
}

impl Outbox for SpyOutbox<'_> {
    type Error = core::convert::Infallible;

    async fn push_back(&mut self, record: &[u8]) -> Result<bool, Self::Error> {
        let stored = self.inner.push_back(record).await?;
        if stored {
            self.pushed.borrow_mut().push(record.to_vec());
        }
        Ok(stored)
    }
    async fn read_front(&mut self, out: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        self.inner.read_front(out).await
    }
    async fn pop_front(&mut self) -> Result<bool, Self::Error> {
        self.inner.pop_front().await
    }
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn can_ever_hold(&self, len: usize) -> bool {
        self.inner.can_ever_hold(len)
    }
}
