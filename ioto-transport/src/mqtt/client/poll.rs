//! [`Client::poll`]: the loop that drives the connection [`State`] — reporting a lost
//! connection, connecting after the backoff ([`handshake`](super::handshake)), draining
//! the queue ([`outbound`](super::outbound)), handling what arrives
//! ([`inbound`](super::inbound)) and keeping the connection alive while reading.

use super::Client;
use super::config::{DisconnectReason, Error, Event};
use super::inbound::Buffered;
use super::state::{Ready, State};
use crate::mqtt::connector::Connector;
use crate::mqtt::packet::{Packet, decode};
use crate::mqtt::wire::DecodeError;
use embedded_hal_async::delay::DelayNs;
use ioto_core::outbox::Outbox;
use ioto_core::{Clock, Entropy, Instant};

impl<'a, C: Connector + 'a, Q: Outbox, D: DelayNs, K: Clock, E: Entropy> Client<'a, C, Q, D, K, E> {
    /// Runs the client until something happens: (re)connecting after the backoff,
    /// sending PINGREQ, draining the offline queue, acknowledging incoming messages.
    ///
    /// Connection trouble is reported as [`Event::Disconnected`] /
    /// [`Event::ConnectFailed`] and retried on the next call; `Err` is only returned
    /// when the offline queue's storage fails.
    pub async fn poll(&mut self) -> Result<Event<'_>, Error> {
        loop {
            if let Some(ready) = self.step(None).await? {
                return Ok(self.event(ready));
            }
        }
    }

    /// Like [`Client::poll`], but gives up after about `max_wait_ms` without an event
    /// and returns `Ok(None)`, for loops that also do other work. (A connection
    /// handshake in progress is finished first; it is bounded by the connect timeout.)
    ///
    /// Prefer this to cancelling `poll` from outside: a `poll` dropped in the middle of
    /// a write costs a reconnect.
    pub async fn poll_timeout(&mut self, max_wait_ms: u32) -> Result<Option<Event<'_>>, Error> {
        let until = Instant(self.clock.now().0 + u64::from(max_wait_ms) * 1_000);
        match self.step(Some(until)).await? {
            Some(ready) => Ok(Some(self.event(ready))),
            None => Ok(None),
        }
    }

    fn event(&mut self, ready: Ready) -> Event<'_> {
        match ready {
            Ready::Connected(session_present) => Event::Connected { session_present },
            Ready::ConnectFailed(f) => Event::ConnectFailed(f),
            Ready::Disconnected(r) => Event::Disconnected(r),
            Ready::Published(packet_id, reason) => Event::Published { packet_id, reason },
            Ready::Packet(len) => {
                self.rx_pending = len;
                match decode(&self.rx[..len], self.cfg.version) {
                    Ok(Some((Packet::Publish(p), _))) => Event::Message(p),
                    Ok(Some((Packet::SubAck(s), _))) => Event::Subscribed(s),
                    Ok(Some((Packet::UnsubAck(s), _))) => Event::Unsubscribed(s),
                    // `step` decoded the same bytes a moment ago.
                    _ => Event::Disconnected(DisconnectReason::Protocol(DecodeError::Invalid(
                        "receive buffer changed",
                    ))),
                }
            }
        }
    }

    /// Runs until there is something to report, or `until` passes (`Ok(None)`).
    async fn step(&mut self, until: Option<Instant>) -> Result<Option<Ready>, Error> {
        loop {
            if self.rx_pending > 0 {
                self.consume(self.rx_pending);
                self.rx_pending = 0;
            }
            // Outcomes of handshakes finished during `disconnect`.
            if let Some((packet_id, reason)) = self.session.inflight.take_done() {
                return Ok(Some(Ready::Published(packet_id, reason)));
            }
            // A write cut short by a dropped future may have left half a packet.
            if self.link.dirty {
                self.session.lose(DisconnectReason::Interrupted);
            }
            match self.session.state {
                State::Lost(reason) => {
                    self.drop_connection();
                    return Ok(Some(Ready::Disconnected(reason)));
                }
                State::Disconnected { retry_at, .. } => {
                    if let Some(u) = until
                        && u < retry_at
                    {
                        self.link.sleep_until(&self.clock, u).await;
                        return Ok(None);
                    }
                    return Ok(Some(self.connect().await));
                }
                // Dropped in the middle of the re-send: the session is half re-sent.
                State::Connecting { .. } if self.link.conn.is_some() => {
                    self.session.lose(DisconnectReason::Interrupted);
                    continue;
                }
                // Dropped before CONNACK: the next attempt starts at once.
                State::Connecting { .. } => return Ok(Some(self.connect().await)),
                // A `disconnect` that was dropped while settling: the connection stays.
                State::Disconnecting => self.session.state = State::Connected,
                State::Connected => {}
            }
            if let Some(refused) = self.drain_queue().await? {
                return Ok(Some(refused));
            }
            if self.session.state != State::Connected {
                continue;
            }
            match self.handle_buffered().await {
                Ok(Buffered::Ready(r)) => return Ok(Some(r)),
                Ok(Buffered::Handled) => continue,
                Ok(Buffered::NeedMore) => {}
                Err(reason) => {
                    self.session.lose(reason);
                    continue;
                }
            }
            if let Some(u) = until
                && self.clock.now() >= u
            {
                return Ok(None);
            }
            if let Err(reason) = self.fill_rx(until).await {
                self.session.lose(reason);
            }
        }
    }

    /// Drops a lost connection; the next attempt waits the backoff.
    fn drop_connection(&mut self) {
        self.link.take();
        self.rx_len = 0;
        self.session.stats.disconnects = self.session.stats.disconnects.saturating_add(1);
        let random = self.entropy.next_u32();
        self.session
            .schedule_retry(&self.cfg.backoff, random, self.clock.now());
    }
}
