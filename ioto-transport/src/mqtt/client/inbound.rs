//! Incoming packets: [`Session::receive`] decides (no I/O) what a packet from the broker
//! means — the acknowledgement owed, the event to report, the QoS bookkeeping — and
//! [`Client::handle_buffered`] applies it to the packet at the start of the receive
//! buffer and sends the acknowledgement. [`Client::fill_rx`] reads more, keeping the
//! connection alive while it waits.

use super::Client;
use super::config::{DisconnectReason, Error};
use super::io::MAX_WAIT_US;
use super::state::{KeepAlive, Ready, Session, State};
use crate::mqtt::connector::Connector;
use crate::mqtt::packet::{Ack, FixedHeader, Packet, decode};
use crate::mqtt::types::{ProtocolVersion, QoS, ReasonCode};
use crate::mqtt::wire::DecodeError;
use embedded_hal_async::delay::DelayNs;
use ioto_core::{Clock, Instant};

/// What one incoming packet asks of the client.
#[derive(Debug, PartialEq)]
pub(super) struct Inbound {
    /// The acknowledgement owed to the broker, if any.
    pub reply: Option<Packet<'static>>,
    /// What to report.
    pub outcome: Outcome,
}

/// The report part of an [`Inbound`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Nothing to report.
    Handled,
    /// Hand the packet to the application (PUBLISH, SUBACK, UNSUBACK).
    Deliver,
    /// An outgoing publish finished with this reason.
    Published(u16, ReasonCode),
}

/// Outcome of looking at the receive buffer.
#[derive(Clone, Copy, Debug)]
pub(super) enum Buffered {
    /// No whole packet yet.
    NeedMore,
    /// A packet was consumed; nothing to report.
    Handled,
    /// Something to report.
    Ready(Ready),
}

impl Session<'_> {
    /// Takes `packet` from the broker. While disconnecting, new messages are neither
    /// acknowledged nor delivered (the broker keeps them for a persistent session),
    /// SUBACK / UNSUBACK are dropped and open handshakes are finished.
    pub fn receive(
        &mut self,
        packet: &Packet<'_>,
        version: ProtocolVersion,
    ) -> Result<Inbound, DisconnectReason> {
        let closing = self.state == State::Disconnecting;
        let mut reply = None;
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
                    QoS::ExactlyOnce if self.incoming.contains(p.packet_id) => {
                        reply = Some(Packet::PubRec(Ack::new(p.packet_id)));
                        self.stats.duplicates_suppressed =
                            self.stats.duplicates_suppressed.saturating_add(1);
                        false
                    }
                    QoS::ExactlyOnce => {
                        if !closing {
                            reply = Some(Packet::PubRec(Ack::new(p.packet_id)));
                            // Full (more in flight than we advertised): still deliver.
                            let _ = self.incoming.insert(p.packet_id);
                        }
                        true
                    }
                };
                if fresh && !closing {
                    Outcome::Deliver
                } else {
                    Outcome::Handled
                }
            }
            Packet::PubAck(a) => self.settled(a.packet_id, a.reason),
            // A QoS 2 message's fate is settled by PUBREC (the broker took it); PUBCOMP
            // only frees the id. "Packet id not found" answers a PUBREL re-sent to a
            // broker that lost the session after taking the message: still delivered.
            Packet::PubComp(a) => self.settled(a.packet_id, ReasonCode::SUCCESS),
            Packet::PubRec(a) if !a.reason.is_success() => self.settled(a.packet_id, a.reason),
            Packet::PubRec(a) => {
                let known = self.inflight.stage(a.packet_id).is_some();
                self.inflight.mark_released(a.packet_id);
                let mut rel = Ack::new(a.packet_id);
                if !known {
                    rel.reason = ReasonCode::PACKET_ID_NOT_FOUND;
                }
                reply = Some(Packet::PubRel(rel));
                Outcome::Handled
            }
            Packet::PubRel(a) => {
                let mut comp = Ack::new(a.packet_id);
                if !self.incoming.remove(a.packet_id) && version.is_v5() {
                    comp.reason = ReasonCode::PACKET_ID_NOT_FOUND;
                }
                reply = Some(Packet::PubComp(comp));
                Outcome::Handled
            }
            Packet::SubAck(_) | Packet::UnsubAck(_) if closing => Outcome::Handled,
            Packet::SubAck(_) | Packet::UnsubAck(_) => Outcome::Deliver,
            Packet::PingResp => {
                self.ping_sent = None;
                Outcome::Handled
            }
            Packet::Disconnect(d) => return Err(DisconnectReason::Server(d.reason)),
            _ => {
                return Err(DisconnectReason::Protocol(DecodeError::Invalid(
                    "unexpected packet from broker",
                )));
            }
        };
        Ok(Inbound { reply, outcome })
    }

    /// The handshake of outgoing `packet_id` ended with `reason`: reported now, or
    /// (while disconnecting) kept as a `Done` record for the next poll.
    fn settled(&mut self, packet_id: u16, reason: ReasonCode) -> Outcome {
        if self.state == State::Disconnecting {
            self.inflight.mark_done(packet_id, reason);
            Outcome::Handled
        } else if self.inflight.remove(packet_id) {
            Outcome::Published(packet_id, reason)
        } else {
            Outcome::Handled
        }
    }
}

impl<'a, C: Connector + 'a, Q, D: DelayNs, K: Clock, E> Client<'a, C, Q, D, K, E> {
    /// Decodes and handles the packet at the start of the receive buffer, if whole.
    /// A delivered packet stays in the buffer until its event is done.
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
        let Inbound { reply, outcome } = self.session.receive(&packet, version)?;
        let buffered = match outcome {
            Outcome::Deliver => Buffered::Ready(Ready::Packet(len)),
            Outcome::Handled => Buffered::Handled,
            Outcome::Published(id, reason) => Buffered::Ready(Ready::Published(id, reason)),
        };
        if outcome != Outcome::Deliver {
            self.consume(len);
        }
        if let Some(reply) = reply {
            // A failed acknowledgement must not swallow the message: a QoS 2 id is
            // already recorded, so the broker's re-delivery would be suppressed. Deliver
            // now; the next poll reports the broken connection.
            self.respond(reply).await;
        }
        Ok(buffered)
    }

    /// Sends a packet the protocol itself owes the broker (acknowledgement, PUBREL,
    /// PINGREQ). Any failure marks the connection lost; the next poll reports it.
    pub(super) async fn respond(&mut self, packet: Packet<'_>) -> bool {
        match self.send_packet(packet).await {
            Ok(()) => true,
            Err(Error::ConnectionLost) => false,
            Err(_) => {
                self.session.lose(DisconnectReason::PacketTooLarge);
                false
            }
        }
    }

    /// Reads more bytes, or sends PINGREQ / declares the connection dead when the
    /// keep-alive deadline passes first.
    pub(super) async fn fill_rx(&mut self, until: Option<Instant>) -> Result<(), DisconnectReason> {
        let now = self.clock.now();
        let wait = match self.session.keep_alive(now, self.cfg.ping_timeout_ms) {
            KeepAlive::Dead => return Err(DisconnectReason::KeepAliveTimeout),
            KeepAlive::Ping => {
                if self.respond(Packet::PingReq).await {
                    self.session.ping_sent = Some(now);
                }
                return Ok(());
            }
            KeepAlive::Wait(wait) => wait.unwrap_or(MAX_WAIT_US),
        };
        let wait = until.map_or(wait, |u| wait.min(u.micros_since(now)));
        let Some(space) = self.rx.get_mut(self.rx_len..).filter(|s| !s.is_empty()) else {
            return Err(DisconnectReason::PacketTooLarge);
        };
        if let Some(n) = self.link.recv(space, wait).await? {
            self.rx_len += n;
            self.session.last_rx = self.clock.now();
        }
        Ok(())
    }

    /// Drops the first `n` bytes of the receive buffer.
    pub(super) fn consume(&mut self, n: usize) {
        self.rx.copy_within(n..self.rx_len, 0);
        self.rx_len -= n;
    }
}

#[cfg(test)]
mod tests {
    use super::super::inflight::{InFlight, IncomingQos2};
    use super::*;
    use crate::mqtt::packet::Publish;
    use crate::mqtt::properties::Properties;

    fn publish(qos: QoS, packet_id: u16) -> Packet<'static> {
        Packet::Publish(Publish {
            dup: false,
            qos,
            retain: false,
            topic: "t",
            packet_id,
            properties: Properties::default(),
            payload: b"x",
        })
    }

    fn connected<'a>(store: &'a mut [u8], ids: &'a mut [u16]) -> Session<'a> {
        let mut s = Session::new(InFlight::new(store), IncomingQos2::new(ids), 0, Instant(0));
        s.state = State::Connected;
        s
    }

    const V5: ProtocolVersion = ProtocolVersion::V5;

    fn answer(
        reply: Option<Packet<'static>>,
        outcome: Outcome,
    ) -> Result<Inbound, DisconnectReason> {
        Ok(Inbound { reply, outcome })
    }

    #[test]
    fn qos2_messages_are_delivered_once_and_released_by_pubrel() {
        let (mut store, mut ids) = ([0u8; 64], [0u16; 4]);
        let mut s = connected(&mut store, &mut ids);
        let pubrec = Some(Packet::PubRec(Ack::new(7)));
        let first = s.receive(&publish(QoS::ExactlyOnce, 7), V5);
        assert_eq!(first, answer(pubrec, Outcome::Deliver));
        let again = s.receive(&publish(QoS::ExactlyOnce, 7), V5);
        assert_eq!(again, answer(pubrec, Outcome::Handled));
        assert_eq!(s.stats.duplicates_suppressed, 1);
        let rel = s.receive(&Packet::PubRel(Ack::new(7)), V5);
        assert_eq!(rel.map(|i| i.reply), Ok(Some(Packet::PubComp(Ack::new(7)))));
        let unknown = s.receive(&Packet::PubRel(Ack::new(7)), V5);
        let mut comp = Ack::new(7);
        comp.reason = ReasonCode::PACKET_ID_NOT_FOUND;
        assert_eq!(unknown.map(|i| i.reply), Ok(Some(Packet::PubComp(comp))));
    }

    #[test]
    fn while_disconnecting_new_messages_are_left_unacknowledged() {
        let (mut store, mut ids) = ([0u8; 64], [0u16; 4]);
        let mut s = connected(&mut store, &mut ids);
        s.state = State::Disconnecting;
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let r = s.receive(&publish(qos, 9), V5);
            assert_eq!(r, answer(None, Outcome::Handled), "{qos:?}");
        }
        assert!(s.incoming.is_empty());
    }

    #[test]
    fn acknowledgements_finish_publishes_or_keep_them_while_disconnecting() {
        let (mut store, mut ids) = ([0u8; 64], [0u16; 4]);
        let mut s = connected(&mut store, &mut ids);
        for id in [1, 2] {
            s.inflight.spare()[..2].copy_from_slice(&[0x32, 0x00]);
            s.inflight.commit(id, 2);
        }
        let ack = s.receive(&Packet::PubAck(Ack::new(1)), V5);
        assert_eq!(
            ack.map(|i| i.outcome),
            Ok(Outcome::Published(1, ReasonCode::SUCCESS))
        );
        s.state = State::Disconnecting;
        let late = s.receive(&Packet::PubAck(Ack::new(2)), V5);
        assert_eq!(late.map(|i| i.outcome), Ok(Outcome::Handled));
        assert_eq!(s.inflight.take_done(), Some((2, ReasonCode::SUCCESS)));
    }

    #[test]
    fn pubrec_for_an_unknown_id_is_answered_with_packet_id_not_found() {
        let (mut store, mut ids) = ([0u8; 64], [0u16; 4]);
        let mut s = connected(&mut store, &mut ids);
        let mut rel = Ack::new(5);
        rel.reason = ReasonCode::PACKET_ID_NOT_FOUND;
        let r = s.receive(&Packet::PubRec(Ack::new(5)), V5);
        assert_eq!(r.map(|i| i.reply), Ok(Some(Packet::PubRel(rel))));
    }

    #[test]
    fn a_client_packet_from_the_broker_is_a_protocol_error() {
        let (mut store, mut ids) = ([0u8; 64], [0u16; 4]);
        let mut s = connected(&mut store, &mut ids);
        let r = s.receive(&Packet::PingReq, V5);
        assert!(matches!(r, Err(DisconnectReason::Protocol(_))), "{r:?}");
    }
}
