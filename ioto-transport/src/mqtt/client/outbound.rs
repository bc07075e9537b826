//! Outgoing work of the client: re-sending the in-flight store after a connect,
//! draining the offline queue (refusing, by an event, what the broker's limits do not
//! allow), and settling open handshakes before a DISCONNECT.

use super::Client;
use super::config::{DisconnectReason, Error};
use super::inbound::Buffered;
use super::inflight::Stage;
use super::state::{PLACEHOLDER_ID, Ready, State};
use crate::mqtt::connector::Connector;
use crate::mqtt::packet::{Ack, FixedHeader, Packet};
use crate::mqtt::types::ReasonCode;
use embedded_hal_async::delay::DelayNs;
use ioto_core::outbox::Outbox;
use ioto_core::{Clock, Instant};

/// Offset of the packet id inside an encoded QoS 1/2 PUBLISH.
pub(super) fn packet_id_offset(packet: &[u8]) -> Option<usize> {
    let h = FixedHeader::parse(packet).ok()??;
    let topic_len = packet.get(h.header_len..h.header_len + 2)?;
    let at = h.header_len + 2 + usize::from(u16::from_be_bytes([topic_len[0], topic_len[1]]));
    (at + 2 <= packet.len()).then_some(at)
}

impl<'a, C: Connector + 'a, Q, D: DelayNs, K: Clock, E> Client<'a, C, Q, D, K, E> {
    /// Encodes `packet` into the transmit buffer and writes it.
    pub(super) async fn send_packet(&mut self, packet: Packet<'_>) -> Result<(), Error> {
        let n = packet.encode(self.cfg.version, self.tx)?;
        let r = self.link.send(&self.tx[..n]).await;
        self.after_send(r)
    }

    /// Notes a write: its time, or (failed) the lost connection.
    pub(super) fn after_send(&mut self, r: Result<(), DisconnectReason>) -> Result<(), Error> {
        match r {
            Ok(()) => {
                self.session.last_tx = self.clock.now();
                Ok(())
            }
            Err(reason) => {
                self.session.lose(reason);
                Err(Error::ConnectionLost)
            }
        }
    }

    /// Re-sends every unacknowledged PUBLISH (with DUP) and PUBREL, oldest first;
    /// false (and the connection lost) when a write fails.
    pub(super) async fn resend_inflight(&mut self) -> bool {
        let mut offset = 0;
        while let Some((record, next)) = self.session.inflight.record_at(offset) {
            offset = next;
            let sent = match record.stage {
                Stage::AwaitAck => {
                    if let Some(first) = record.packet.first_mut() {
                        *first |= 0x08;
                    }
                    let r = self.link.send(record.packet).await;
                    self.after_send(r).is_ok()
                }
                Stage::AwaitComp => {
                    let rel = Packet::PubRel(Ack::new(record.packet_id));
                    self.respond(rel).await
                }
                // Finished; only waiting to be reported.
                Stage::Done(_) => continue,
            };
            if !sent {
                return false;
            }
            self.session.stats.resent = self.session.stats.resent.saturating_add(1);
        }
        true
    }

    /// Before a DISCONNECT: answers the broker and waits (at most the disconnect
    /// timeout) until no QoS 1/2 handshake is open in either direction, so the broker
    /// has nothing left to say that would be cut off. Finished outgoing publishes
    /// become `Done` records (reported by the next poll); new incoming publishes are
    /// left unacknowledged (the broker keeps them for a persistent session).
    pub(super) async fn settle(&mut self) {
        if self.rx_pending > 0 {
            self.consume(self.rx_pending);
            self.rx_pending = 0;
        }
        let deadline = Instant(
            self.clock
                .now()
                .0
                .saturating_add(u64::from(self.cfg.disconnect_timeout_ms) * 1_000),
        );
        while self.session.state == State::Disconnecting {
            match self.handle_buffered().await {
                Ok(Buffered::Handled | Buffered::Ready(_)) => continue,
                Ok(Buffered::NeedMore) => {}
                Err(reason) => {
                    self.session.lose(reason);
                    break;
                }
            }
            let open = self.session.inflight.awaiting() > 0 || !self.session.incoming.is_empty();
            if !open || self.clock.now() >= deadline {
                break;
            }
            if let Err(reason) = self.fill_rx(Some(deadline)).await {
                self.session.lose(reason);
            }
        }
    }
}

impl<'a, C: Connector + 'a, Q: Outbox, D: DelayNs, K: Clock, E> Client<'a, C, Q, D, K, E> {
    /// Sends queued publishes while the window allows. A queued publish that cannot
    /// be sent on this connection is removed and reported (`Ready::Published` with a
    /// failure reason; packet id 0 for QoS 0), so its outcome never depends on when it
    /// was queued.
    pub(super) async fn drain_queue(&mut self) -> Result<Option<Ready>, Error> {
        while self.is_connected() && !self.queue.is_empty() {
            let Some(n) = self
                .queue
                .front(self.tx)
                .await
                .map_err(|_| Error::Storage)?
            else {
                return Ok(None);
            };
            let qos = match self.tx.first() {
                Some(b) if n <= self.tx.len() => (b >> 1) & 0x03,
                // Not even copied: its header is unknown.
                _ => 0,
            };
            let sendable = n <= self.tx.len() && self.session.server.allows(n);
            let storable = qos == 0 || self.session.inflight.can_ever_hold(n);
            let id_at = if qos == 0 {
                Some(0)
            } else {
                packet_id_offset(&self.tx[..n.min(self.tx.len())])
            };
            let refusal = match id_at {
                _ if !sendable || !storable => Some(ReasonCode::PACKET_TOO_LARGE),
                None => Some(ReasonCode::MALFORMED_PACKET),
                Some(_) => None,
            };
            if let Some(reason) = refusal {
                self.queue.pop().await.map_err(|_| Error::Storage)?;
                self.queue.count_dropped();
                let packet_id = if qos == 0 {
                    0
                } else {
                    self.session.alloc_packet_id()
                };
                return Ok(Some(Ready::Published(packet_id, reason)));
            }
            let result = if qos == 0 {
                let r = self.link.send(&self.tx[..n]).await;
                if r.is_ok() {
                    self.queue.pop().await.map_err(|_| Error::Storage)?;
                }
                r
            } else {
                if !self.session.window_open(self.cfg.max_inflight)
                    || self.session.inflight.spare().len() < n
                {
                    return Ok(None);
                }
                let at = id_at.unwrap_or(0);
                let id = self.session.alloc_packet_id();
                let spare = self.session.inflight.spare();
                spare[..n].copy_from_slice(&self.tx[..n]);
                spare[at..at + 2].copy_from_slice(&id.to_be_bytes());
                debug_assert_ne!(id, PLACEHOLDER_ID);
                let stored = self.session.inflight.commit(id, n);
                let r = self.link.send(stored).await;
                self.queue.pop().await.map_err(|_| Error::Storage)?;
                r
            };
            let _ = self.after_send(result);
        }
        Ok(None)
    }
}
