//! [`Client::poll`]: connecting, keep-alive, queue draining and incoming packets.

use super::config::{ConnectFailure, DisconnectReason, Error, Event, SessionMode};
use super::io::{MAX_WAIT_US, read_some, write_packet};
use super::{Client, ServerLimits};
use crate::mqtt::connector::Connector;
use crate::mqtt::packet::{Ack, Connect, FixedHeader, Packet, QoS, ReasonCode, decode};
use crate::mqtt::properties::Properties;
use crate::mqtt::wire::DecodeError;
use embedded_hal_async::delay::DelayNs;
use ioto_core::outbox::Outbox;
use ioto_core::{Clock, Entropy, Instant};

/// What a step of the state machine produced; copied out so the receive buffer can
/// be borrowed afresh for the event.
#[derive(Clone, Copy, Debug)]
pub(super) enum Ready {
    Connected(bool),
    ConnectFailed(ConnectFailure),
    Disconnected(DisconnectReason),
    Published(u16, ReasonCode),
    /// A PUBLISH, SUBACK or UNSUBACK of this length at the start of the receive buffer.
    Packet(usize),
}

/// Outcome of looking at the receive buffer.
pub(super) enum Buffered {
    NeedMore,
    Handled,
    Ready(Ready),
}

/// The broker's limits from CONNACK properties (defaults when absent).
fn server_limits(p: &Properties<'_>) -> ServerLimits {
    ServerLimits {
        receive_max: p
            .receive_maximum
            .unwrap_or(ServerLimits::DEFAULT.receive_max)
            .max(1),
        max_packet: p
            .maximum_packet_size
            .unwrap_or(ServerLimits::DEFAULT.max_packet),
        topic_alias_max: p.topic_alias_maximum.unwrap_or(0),
    }
}

fn micros(ms: u32) -> u64 {
    u64::from(ms) * 1_000
}

impl<'a, C, Q, D, K, E> Client<'a, C, Q, D, K, E>
where
    C: Connector + 'a,
    Q: Outbox,
    D: DelayNs,
    K: Clock,
    E: Entropy,
{
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
        let until = Instant(self.clock.now().0 + micros(max_wait_ms));
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
            if let Some((packet_id, reason)) = self.inflight.take_done() {
                return Ok(Some(Ready::Published(packet_id, reason)));
            }
            if self.wire.dirty && self.wire.conn.is_some() {
                self.link.lost.get_or_insert(DisconnectReason::Interrupted);
            }
            if let Some(reason) = self.link.lost.take() {
                self.wire.dirty = false;
                self.drop_connection();
                return Ok(Some(Ready::Disconnected(reason)));
            }
            if self.wire.conn.is_none() {
                if let Some(u) = until
                    && u < self.link.next_attempt
                {
                    self.sleep_until(u).await;
                    return Ok(None);
                }
                return Ok(Some(self.connect().await));
            }
            if let Some(refused) = self.drain_queue().await? {
                return Ok(Some(refused));
            }
            if self.link.lost.is_some() {
                continue;
            }
            match self.handle_buffered().await {
                Ok(Buffered::Ready(r)) => return Ok(Some(r)),
                Ok(Buffered::Handled) => continue,
                Ok(Buffered::NeedMore) => {}
                Err(reason) => {
                    self.link.lost.get_or_insert(reason);
                    continue;
                }
            }
            if let Some(u) = until
                && self.clock.now() >= u
            {
                return Ok(None);
            }
            if let Err(reason) = self.fill_rx(until).await {
                self.link.lost.get_or_insert(reason);
            }
        }
    }

    pub(super) fn consume(&mut self, n: usize) {
        self.rx.copy_within(n..self.rx_len, 0);
        self.rx_len -= n;
    }

    fn drop_connection(&mut self) {
        self.wire.conn = None;
        self.rx_len = 0;
        self.stats.disconnects = self.stats.disconnects.saturating_add(1);
        self.schedule_retry();
    }

    fn schedule_retry(&mut self) {
        let wait = self
            .cfg
            .backoff
            .delay_ms(self.link.attempt, self.entropy.next_u32());
        self.link.attempt = self.link.attempt.saturating_add(1);
        self.link.next_attempt = Instant(self.clock.now().0 + micros(wait));
    }

    async fn sleep_until(&mut self, at: Instant) {
        loop {
            let now = self.clock.now();
            if now >= at {
                return;
            }
            self.wire
                .delay
                .delay_us(at.micros_since(now).min(MAX_WAIT_US) as u32)
                .await;
        }
    }

    /// One connection attempt (after the backoff).
    async fn connect(&mut self) -> Ready {
        self.sleep_until(self.link.next_attempt).await;
        match self.handshake().await {
            Ok(session_present) => {
                self.link.attempt = 0;
                self.stats.connects = self.stats.connects.saturating_add(1);
                if let Err(reason) = self.resend_inflight().await {
                    self.link.lost = Some(reason);
                }
                Ready::Connected(session_present)
            }
            Err(f) => {
                self.wire.conn = None;
                self.rx_len = 0;
                self.schedule_retry();
                Ready::ConnectFailed(f)
            }
        }
    }

    /// TCP connect, CONNECT, CONNACK; on success the connection is installed.
    async fn handshake(&mut self) -> Result<bool, ConnectFailure> {
        let start = self.clock.now();
        let deadline = Instant(start.0 + micros(self.cfg.connect_timeout_ms));
        let connector: &'a C = self.connector;
        let opened = embassy_futures::select::select(
            connector.connect(),
            self.wire.delay.delay_ms(self.cfg.connect_timeout_ms),
        )
        .await;
        let mut conn = match opened {
            embassy_futures::select::Either::First(Ok(c)) => c,
            embassy_futures::select::Either::First(Err(e)) => {
                return Err(ConnectFailure::Connect(embedded_io::Error::kind(&e)));
            }
            embassy_futures::select::Either::Second(()) => return Err(ConnectFailure::Timeout),
        };
        let connect = self.connect_packet();
        let n = Packet::Connect(connect)
            .encode(self.cfg.version, self.tx)
            .map_err(|_| ConnectFailure::Disconnected(DisconnectReason::PacketTooLarge))?;
        write_packet(
            &mut conn,
            &mut self.wire.delay,
            self.cfg.connect_timeout_ms,
            &self.tx[..n],
        )
        .await
        .map_err(ConnectFailure::Disconnected)?;
        self.rx_len = 0;
        let (ack_len, session_present, limits, server_keep_alive) = loop {
            if let Some((packet, len)) = decode(&self.rx[..self.rx_len], self.cfg.version)
                .map_err(|e| ConnectFailure::Disconnected(DisconnectReason::Protocol(e)))?
            {
                let Packet::ConnAck(ack) = packet else {
                    return Err(ConnectFailure::Disconnected(DisconnectReason::Protocol(
                        DecodeError::Invalid("first packet is not CONNACK"),
                    )));
                };
                if !ack.accepted() {
                    return Err(ConnectFailure::Refused(ack.reason));
                }
                break (
                    len,
                    ack.session_present,
                    server_limits(&ack.properties),
                    ack.properties.server_keep_alive,
                );
            }
            let now = self.clock.now();
            if now >= deadline {
                return Err(ConnectFailure::Timeout);
            }
            let Some(space) = self.rx.get_mut(self.rx_len..).filter(|s| !s.is_empty()) else {
                return Err(ConnectFailure::Disconnected(
                    DisconnectReason::PacketTooLarge,
                ));
            };
            let got = read_some(
                &mut conn,
                &mut self.wire.delay,
                deadline.micros_since(now),
                space,
            )
            .await
            .map_err(ConnectFailure::Disconnected)?;
            self.rx_len += got.unwrap_or(0);
        };
        self.consume(ack_len);
        // Until `resend_inflight` completes, a dropped poll future leaves the session
        // half re-sent: the next poll then reconnects.
        self.wire.dirty = true;
        self.link.server = limits;
        self.link.keep_alive_secs = server_keep_alive.unwrap_or(self.cfg.keep_alive_secs);
        self.wire.conn = Some(conn);
        let now = self.clock.now();
        self.link.last_tx = now;
        self.link.last_rx = now;
        self.link.ping_sent = None;
        self.link.aliases_bound = 0;
        if !session_present {
            self.incoming.clear();
        }
        Ok(session_present)
    }

    fn connect_packet(&self) -> Connect<'a> {
        let persistent = matches!(self.cfg.session, SessionMode::Persistent { .. });
        let mut properties = Properties::default();
        if self.cfg.version.is_v5() {
            if let SessionMode::Persistent { expiry_secs } = self.cfg.session {
                properties.session_expiry_interval = Some(expiry_secs);
            }
            let receive_max = self.incoming.capacity().clamp(1, usize::from(u16::MAX)) as u16;
            properties.receive_maximum = Some(receive_max);
            properties.maximum_packet_size = u32::try_from(self.rx.len()).ok();
        }
        Connect {
            version: self.cfg.version,
            client_id: self.cfg.client_id,
            keep_alive: self.cfg.keep_alive_secs,
            clean_start: !persistent,
            username: self.cfg.username,
            password: self.cfg.password,
            will: self.cfg.will,
            properties,
        }
    }

    /// Decodes and handles the packet at the start of the receive buffer, if whole.
    pub(super) async fn handle_buffered(&mut self) -> Result<Buffered, DisconnectReason> {
        let version = self.cfg.version;
        let Some((packet, len)) =
            decode(&self.rx[..self.rx_len], version).map_err(DisconnectReason::Protocol)?
        else {
            let too_big = FixedHeader::parse(&self.rx[..self.rx_len])
                .ok()
                .flatten()
                .is_some_and(|h| h.packet_len() > self.rx.len());
            return if too_big {
                Err(DisconnectReason::PacketTooLarge)
            } else {
                Ok(Buffered::NeedMore)
            };
        };
        let mut reply: Option<Packet<'static>> = None;
        let mut consumed_here = true;
        // Disconnecting: new messages are neither acknowledged nor delivered (the
        // broker keeps them for a persistent session); open handshakes are finished.
        let closing = self.link.closing;
        let outcome = match packet {
            Packet::Publish(p) => {
                let fresh = match p.qos {
                    QoS::AtMostOnce => true,
                    QoS::AtLeastOnce => {
                        if !closing {
                            reply = Some(Packet::PubAck(Ack::new(p.packet_id)));
                        }
                        true
                    }
                    QoS::ExactlyOnce => {
                        if self.incoming.contains(p.packet_id) {
                            reply = Some(Packet::PubRec(Ack::new(p.packet_id)));
                            self.stats.duplicates_suppressed =
                                self.stats.duplicates_suppressed.saturating_add(1);
                            false
                        } else if closing {
                            true
                        } else {
                            reply = Some(Packet::PubRec(Ack::new(p.packet_id)));
                            // Full (more in flight than we advertised): still deliver.
                            let _ = self.incoming.insert(p.packet_id);
                            true
                        }
                    }
                };
                if fresh && !closing {
                    consumed_here = false;
                    Buffered::Ready(Ready::Packet(len))
                } else {
                    Buffered::Handled
                }
            }
            Packet::PubAck(a) => self.settled(a.packet_id, a.reason),
            // A QoS 2 message's fate is settled by PUBREC (the broker took it); PUBCOMP
            // only frees the id. "Packet id not found" answers a PUBREL re-sent to a
            // broker that lost the session after taking the message: still delivered.
            Packet::PubComp(a) => self.settled(a.packet_id, ReasonCode::SUCCESS),
            Packet::PubRec(a) => {
                if !a.reason.is_success() {
                    self.settled(a.packet_id, a.reason)
                } else {
                    let known = self.inflight.stage(a.packet_id).is_some();
                    self.inflight.mark_released(a.packet_id);
                    let mut rel = Ack::new(a.packet_id);
                    if !known {
                        rel.reason = ReasonCode::PACKET_ID_NOT_FOUND;
                    }
                    reply = Some(Packet::PubRel(rel));
                    Buffered::Handled
                }
            }
            Packet::PubRel(a) => {
                let mut comp = Ack::new(a.packet_id);
                if !self.incoming.remove(a.packet_id) && version.is_v5() {
                    comp.reason = ReasonCode::PACKET_ID_NOT_FOUND;
                }
                reply = Some(Packet::PubComp(comp));
                Buffered::Handled
            }
            Packet::SubAck(_) | Packet::UnsubAck(_) if closing => Buffered::Handled,
            Packet::SubAck(_) | Packet::UnsubAck(_) => {
                consumed_here = false;
                Buffered::Ready(Ready::Packet(len))
            }
            Packet::PingResp => {
                self.link.ping_sent = None;
                Buffered::Handled
            }
            Packet::Disconnect(d) => return Err(DisconnectReason::Server(d.reason)),
            _ => {
                return Err(DisconnectReason::Protocol(DecodeError::Invalid(
                    "unexpected packet from broker",
                )));
            }
        };
        if consumed_here {
            self.consume(len);
        }
        if let Some(reply) = reply {
            // A failed acknowledgement must not swallow the message: a QoS 2 id is
            // already recorded, so the broker's re-delivery would be suppressed. Deliver
            // now and report the broken connection on the next poll.
            let sent = match reply.encode(version, self.tx) {
                Ok(n) => self.wire.send(&self.tx[..n]).await,
                Err(_) => Err(DisconnectReason::PacketTooLarge),
            };
            match sent {
                Ok(()) => self.link.last_tx = self.clock.now(),
                Err(reason) => {
                    self.link.lost.get_or_insert(reason);
                }
            }
        }
        Ok(outcome)
    }

    /// The handshake of outgoing `packet_id` ended with `reason`: reported now, or
    /// (while disconnecting) kept as a `Done` record for the next poll.
    fn settled(&mut self, packet_id: u16, reason: ReasonCode) -> Buffered {
        if self.link.closing {
            self.inflight.mark_done(packet_id, reason);
            Buffered::Handled
        } else if self.inflight.remove(packet_id) {
            Buffered::Ready(Ready::Published(packet_id, reason))
        } else {
            Buffered::Handled
        }
    }

    /// Reads more bytes, or sends PINGREQ / declares the connection dead when the
    /// keep-alive deadline passes first.
    pub(super) async fn fill_rx(&mut self, until: Option<Instant>) -> Result<(), DisconnectReason> {
        let now = self.clock.now();
        let keep_alive_us = u64::from(self.link.keep_alive_secs) * 1_000_000;
        let deadline = match self.link.ping_sent {
            Some(sent) => Some(sent.0 + micros(self.cfg.ping_timeout_ms)),
            None if keep_alive_us > 0 => {
                Some(self.link.last_tx.min(self.link.last_rx).0 + keep_alive_us)
            }
            None => None,
        };
        if let Some(at) = deadline
            && now.0 >= at
        {
            if self.link.ping_sent.is_some() {
                return Err(DisconnectReason::KeepAliveTimeout);
            }
            let n = Packet::PingReq
                .encode(self.cfg.version, self.tx)
                .map_err(|_| DisconnectReason::PacketTooLarge)?;
            self.wire.send(&self.tx[..n]).await?;
            self.link.last_tx = now;
            self.link.ping_sent = Some(now);
            return Ok(());
        }
        let wait = deadline.map_or(MAX_WAIT_US, |at| at - now.0);
        let wait = until.map_or(wait, |u| wait.min(u.micros_since(now)));
        let Some(conn) = self.wire.conn.as_mut() else {
            return Err(DisconnectReason::Closed);
        };
        let Some(space) = self.rx.get_mut(self.rx_len..).filter(|s| !s.is_empty()) else {
            return Err(DisconnectReason::PacketTooLarge);
        };
        if let Some(n) = read_some(conn, &mut self.wire.delay, wait, space).await? {
            self.rx_len += n;
            self.link.last_rx = self.clock.now();
        }
        Ok(())
    }
}
