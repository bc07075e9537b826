//! The MQTT client: one connection at a time over any [`Connector`], reconnecting with
//! full-jitter backoff, re-sending unacknowledged QoS 1/2 publishes (DUP) after a
//! reconnect and holding publishes made while offline in an [`OfflineQueue`].
//!
//! The client does no allocation; the application lends it every buffer
//! ([`Buffers`]). It is driven by [`Client::poll`], which the application calls in a
//! loop: each call performs I/O (reconnect, keep-alive, queue draining, reading) until
//! there is an [`Event`] to report. [`Client::publish`], [`Client::subscribe`] and
//! [`Client::unsubscribe`] send immediately and return; their acknowledgements arrive
//! as events.
//!
//! Time comes from an [`embedded_hal_async::delay::DelayNs`] (waiting) and an
//! [`ioto_core::Clock`] (deadlines), randomness for the backoff jitter from an
//! [`ioto_core::Entropy`], so the client runs under embassy and tokio alike. The
//! connection's `read` must be cancel-safe (embassy-net and tokio streams are): a read
//! racing a timer may be dropped.
//!
//! Inside, protocol state and I/O are apart (as in smoltcp's TCP socket and rumqttc's
//! `state.rs`): `state.rs` holds the connection state machine and the session (QoS
//! stores, broker limits, timers, packet ids) and does no I/O; `io.rs`'s `Link` owns the
//! connection, the delay and the dirty flag of an interrupted write. Around them,
//! `handshake.rs` connects (CONNECT / CONNACK, re-send), `inbound.rs` handles what the
//! broker sends, `outbound.rs` writes (queue draining, settling before DISCONNECT), and
//! `poll.rs` drives the state machine; this file holds the application's calls.

mod config;
mod handshake;
mod inbound;
mod inflight;
mod io;
mod outbound;
mod poll;
mod state;
#[cfg(test)]
#[allow(clippy::panic)]
mod tests;

pub use config::{
    Backoff, ClientConfig, ConnectFailure, DisconnectReason, Error, Event, Publication,
    PublishOptions, SessionMode, Stats,
};

use crate::mqtt::connector::Connector;
use crate::mqtt::packet::{
    Packet, Publish, ReasonOnly, Subscribe, Subscription, SubscriptionList, TopicList, Unsubscribe,
};
use crate::mqtt::properties::{Properties, UserProperties};
use crate::mqtt::types::{ProtocolVersion, QoS, ReasonCode};
use embassy_futures::select::select;
use embedded_hal_async::delay::DelayNs;
use inflight::{InFlight, IncomingQos2};
use io::Link;
use ioto_core::Clock;
use ioto_core::outbox::{OfflineQueue, Outbox, Pushed, QueueError};
use state::{PLACEHOLDER_ID, Session, State};

/// The memory the client works in, all owned by the application.
#[derive(Debug)]
pub struct Buffers<'a> {
    /// Receive buffer: bounds the largest incoming packet (advertised to MQTT 5.0
    /// brokers as the maximum packet size).
    pub rx: &'a mut [u8],
    /// Transmit buffer: bounds the largest outgoing packet.
    pub tx: &'a mut [u8],
    /// Copies of unacknowledged QoS 1/2 publishes, for re-sending after a reconnect.
    pub inflight: &'a mut [u8],
    /// Packet ids of incoming QoS 2 messages awaiting PUBREL (duplicate suppression);
    /// its length is the receive maximum advertised to MQTT 5.0 brokers.
    pub incoming_qos2: &'a mut [u16],
}

/// An MQTT 3.1.1 / 5.0 client; see the [module documentation](self).
pub struct Client<'a, C: Connector, Q, D, K, E> {
    cfg: ClientConfig<'a>,
    connector: &'a C,
    /// I/O: the connection, the delay, the dirty flag.
    link: Link<C::Connection<'a>, D>,
    /// Protocol state: connection state, QoS stores, limits, timers.
    session: Session<'a>,
    rx: &'a mut [u8],
    rx_len: usize,
    /// Length of the packet the last event borrowed; consumed by the next poll.
    rx_pending: usize,
    tx: &'a mut [u8],
    queue: OfflineQueue<Q>,
    clock: K,
    entropy: E,
}

impl<'a, C: Connector, Q, D, K: Clock, E> Client<'a, C, Q, D, K, E> {
    /// A client that connects through `connector` on the first [`Client::poll`].
    pub fn new(
        cfg: ClientConfig<'a>,
        connector: &'a C,
        buffers: Buffers<'a>,
        queue: OfflineQueue<Q>,
        delay: D,
        clock: K,
        entropy: E,
    ) -> Self {
        let session = Session::new(
            InFlight::new(buffers.inflight),
            IncomingQos2::new(buffers.incoming_qos2),
            cfg.keep_alive_secs,
            clock.now(),
        );
        Client {
            cfg,
            connector,
            link: Link::new(delay, cfg.write_timeout_ms),
            session,
            rx: buffers.rx,
            rx_len: 0,
            rx_pending: 0,
            tx: buffers.tx,
            queue,
            clock,
            entropy,
        }
    }

    /// The protocol version in use.
    pub fn version(&self) -> ProtocolVersion {
        self.cfg.version
    }

    /// True while a connection is up (CONNACK accepted, what was in flight re-sent,
    /// no write cut short).
    pub fn is_connected(&self) -> bool {
        self.session.state == State::Connected && !self.link.dirty
    }

    /// Diagnostic counters.
    pub fn stats(&self) -> Stats {
        self.session.stats
    }

    /// The offline queue (length, dropped count).
    pub fn queue(&self) -> &OfflineQueue<Q> {
        &self.queue
    }

    /// QoS 1/2 publishes sent and not yet fully acknowledged.
    pub fn inflight_len(&self) -> usize {
        self.session.inflight.len()
    }
}

impl<'a, C, Q, D, K, E> Client<'a, C, Q, D, K, E>
where
    C: Connector + 'a,
    Q: Outbox,
    D: DelayNs,
    K: Clock,
{
    /// True when nothing is in flight or queued (everything acknowledged).
    pub fn is_idle(&self) -> bool {
        self.session.inflight.len() == 0 && self.queue.is_empty()
    }

    /// Publishes `payload` to `topic`.
    ///
    /// Sent at once when connected, nothing is queued and (for QoS 1/2) the in-flight
    /// window has room; otherwise stored in the offline queue (under its policy) and
    /// sent in order by [`Client::poll`]. A write failure does not lose a QoS 1/2
    /// message: it is re-sent after the reconnect.
    pub async fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        opts: &PublishOptions<'_>,
    ) -> Result<Publication, Error> {
        let v5 = self.cfg.version.is_v5();
        if opts.topic_alias == Some(0) || (topic.is_empty() && opts.topic_alias.is_none()) {
            return Err(Error::BadTopicAlias);
        }
        let mut packet = Publish {
            dup: false,
            qos,
            retain: opts.retain,
            topic,
            packet_id: 0,
            properties: if v5 {
                publish_properties(opts)
            } else {
                Properties::default()
            },
            payload,
        };
        let alias = opts.topic_alias.filter(|_| v5);
        if let Some(a) = alias
            && a > self.session.server.topic_alias_max
            && self.is_connected()
        {
            return Err(Error::BadTopicAlias);
        }
        if self.is_connected() && self.queue.is_empty() {
            if qos == QoS::AtMostOnce {
                self.send_publish(packet, alias).await?;
                return Ok(Publication::Sent { packet_id: 0 });
            }
            if self.session.window_open(self.cfg.max_inflight) {
                packet.packet_id = self.session.alloc_packet_id();
                // Without room right now, the queue holds it until acks free space.
                let spare = self.session.inflight.spare();
                if let Ok(n) = Packet::Publish(packet).encode(self.cfg.version, spare) {
                    if !self.session.server.allows(n) {
                        return Err(Error::TooLarge);
                    }
                    if alias.is_some() {
                        self.session.inflight.commit(packet.packet_id, n);
                        self.send_publish(packet, alias).await?;
                    } else {
                        let stored = self.session.inflight.commit(packet.packet_id, n);
                        let r = self.link.send(stored).await;
                        self.after_send(r)?;
                    }
                    return Ok(Publication::Sent {
                        packet_id: packet.packet_id,
                    });
                }
            }
        }
        self.enqueue(packet).await
    }

    async fn enqueue(&mut self, mut packet: Publish<'_>) -> Result<Publication, Error> {
        packet.packet_id = if packet.qos == QoS::AtMostOnce {
            0
        } else {
            PLACEHOLDER_ID
        };
        // Queued copies carry the full topic and no alias: the connection they go out
        // on may not have the alias bound (or allow aliases at all).
        packet.properties.topic_alias = None;
        if packet.topic.is_empty() {
            return Err(Error::BadTopicAlias);
        }
        let n = Packet::Publish(packet).encode(self.cfg.version, self.tx)?;
        if packet.qos != QoS::AtMostOnce && !self.session.inflight.can_ever_hold(n) {
            return Err(Error::TooLarge);
        }
        // With the broker's limit known (connected, window full or queue non-empty),
        // refuse now as a direct publish would; otherwise `drain_queue` refuses it by
        // an event once the limit is known.
        if self.is_connected() && !self.session.server.allows(n) {
            return Err(Error::TooLarge);
        }
        match self.queue.push(&self.tx[..n]).await {
            Ok(Pushed::Stored { .. }) => Ok(Publication::Queued),
            Ok(Pushed::Discarded) => Ok(Publication::Discarded),
            Err(QueueError::Full) => Err(Error::QueueFull),
            Err(QueueError::TooLarge) => Err(Error::TooLarge),
            Err(QueueError::Storage(_)) => Err(Error::Storage),
        }
    }

    /// Encodes `packet` into the transmit buffer (leaving the topic out when its alias
    /// is already bound) and writes it.
    async fn send_publish(
        &mut self,
        mut packet: Publish<'_>,
        alias: Option<u16>,
    ) -> Result<(), Error> {
        if let Some(a) = alias {
            packet.properties.topic_alias = Some(a);
            if self.session.bind_alias(a) {
                packet.topic = "";
            }
        }
        let n = Packet::Publish(packet).encode(self.cfg.version, self.tx)?;
        if !self.session.server.allows(n) {
            return Err(Error::TooLarge);
        }
        let r = self.link.send(&self.tx[..n]).await;
        self.after_send(r)
    }

    /// Subscribes to `subscriptions`; the [`Event::Subscribed`] with the returned
    /// packet id carries the broker's answer. `properties` (MQTT 5.0) may carry a
    /// subscription identifier and user properties.
    pub async fn subscribe(
        &mut self,
        subscriptions: &[Subscription<'_>],
        properties: Properties<'_>,
    ) -> Result<u16, Error> {
        if !self.is_connected() {
            return Err(Error::NotConnected);
        }
        let packet_id = self.session.alloc_packet_id();
        let subs = SubscriptionList::List(subscriptions);
        self.send_packet(Packet::Subscribe(Subscribe {
            packet_id,
            properties,
            subscriptions: subs,
        }))
        .await?;
        Ok(packet_id)
    }

    /// Unsubscribes from `filters`; answered by [`Event::Unsubscribed`].
    pub async fn unsubscribe(&mut self, filters: &[&str]) -> Result<u16, Error> {
        if !self.is_connected() {
            return Err(Error::NotConnected);
        }
        let packet_id = self.session.alloc_packet_id();
        let packet = Unsubscribe {
            packet_id,
            properties: Properties::default(),
            filters: TopicList::List(filters),
        };
        self.send_packet(Packet::Unsubscribe(packet)).await?;
        Ok(packet_id)
    }

    /// Finishes open QoS 1/2 handshakes (both directions, at most
    /// [`ClientConfig::disconnect_timeout_ms`]), then sends DISCONNECT and closes the
    /// connection (the broker discards the will), through the connector's
    /// [`Connector::close`] (over TLS: `close_notify`, within the write timeout). A
    /// later [`Client::poll`] connects again.
    ///
    /// While settling, new incoming messages are left unacknowledged (a persistent
    /// session gets them again) and SUBACK / UNSUBACK are dropped. Publishes finished
    /// meanwhile are reported as [`Event::Published`] by the next poll, before it
    /// reconnects; those still open are re-sent (DUP) on the next connection.
    pub async fn disconnect(&mut self) {
        if self.is_connected() {
            self.session.state = State::Disconnecting;
            self.settle().await;
        }
        let sent = self.session.state == State::Disconnecting
            && self
                .send_packet(Packet::Disconnect(ReasonOnly {
                    reason: ReasonCode::SUCCESS,
                    properties: Properties::default(),
                }))
                .await
                .is_ok();
        let conn = self.link.take();
        // Not a lost connection: no event, and the next poll connects at once.
        self.session.state = State::Disconnected {
            attempt: self.session.attempt(),
            retry_at: self.clock.now(),
        };
        if let Some(conn) = conn
            && sent
        {
            let close = self.connector.close(conn);
            // Dropped on timeout all the same.
            let _ = select(close, self.link.delay.delay_ms(self.cfg.write_timeout_ms)).await;
        }
    }
}

fn publish_properties<'p>(opts: &PublishOptions<'p>) -> Properties<'p> {
    Properties {
        payload_format_indicator: opts.utf8_payload.then_some(1),
        message_expiry_interval: opts.message_expiry_secs,
        content_type: opts.content_type,
        response_topic: opts.response_topic,
        correlation_data: opts.correlation_data,
        user: UserProperties::List(opts.user_properties),
        ..Properties::default()
    }
}
