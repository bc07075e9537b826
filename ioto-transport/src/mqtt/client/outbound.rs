//! Outgoing work of the client: re-sending the in-flight store after a connect,
//! draining the offline queue (refusing, by an event, what the broker's limits do not
//! allow), and settling open handshakes before a DISCONNECT.

use super::config::{DisconnectReason, Error};
use super::inflight::Stage;
use super::poll::{Buffered, Ready};
use super::{Client, PLACEHOLDER_ID, packet_id_offset};
use crate::mqtt::connector::Connector;
use crate::mqtt::packet::{Ack, Packet, ReasonCode};
use embedded_hal_async::delay::DelayNs;
use ioto_core::outbox::Outbox;
use ioto_core::{Clock, Entropy, Instant};

impl<'a, C, Q, D, K, E> Client<'a, C, Q, D, K, E>
where
    C: Connector + 'a,
    Q: Outbox,
    D: DelayNs,
    K: Clock,
    E: Entropy,
{
    /// Re-sends every unacknowledged PUBLISH (with DUP) and PUBREL, oldest first.
    pub(super) async fn resend_inflight(&mut self) -> Result<(), DisconnectReason> {
        let mut offset = 0;
        while let Some((record, next)) = self.inflight.record_at(offset) {
            offset = next;
            let bytes: &[u8] = match record.stage {
                Stage::AwaitAck => {
                    if let Some(first) = record.packet.first_mut() {
                        *first |= 0x08;
                    }
                    record.packet
                }
                Stage::AwaitComp => {
                    let n = Packet::PubRel(Ack::new(record.packet_id))
                        .encode(self.cfg.version, self.tx)
                        .map_err(|_| DisconnectReason::PacketTooLarge)?;
                    &self.tx[..n]
                }
                // Finished; only waiting to be reported.
                Stage::Done(_) => continue,
            };
            self.wire.send(bytes).await?;
            self.stats.resent = self.stats.resent.saturating_add(1);
        }
        self.link.last_tx = self.clock.now();
        self.wire.dirty = false;
        Ok(())
    }

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
            let sendable = n <= self.tx.len() && n as u64 <= u64::from(self.link.server.max_packet);
            let storable = qos == 0 || self.inflight.can_ever_hold(n);
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
                let packet_id = if qos == 0 { 0 } else { self.alloc_packet_id() };
                return Ok(Some(Ready::Published(packet_id, reason)));
            }
            let result = if qos == 0 {
                let r = self.wire.send(&self.tx[..n]).await;
                if r.is_ok() {
                    self.queue.pop().await.map_err(|_| Error::Storage)?;
                }
                r
            } else {
                if !self.window_open() || self.inflight.spare().len() < n {
                    return Ok(None);
                }
                let at = id_at.unwrap_or(0);
                let id = self.alloc_packet_id();
                let spare = self.inflight.spare();
                spare[..n].copy_from_slice(&self.tx[..n]);
                spare[at..at + 2].copy_from_slice(&id.to_be_bytes());
                debug_assert_ne!(id, PLACEHOLDER_ID);
                let stored = self.inflight.commit(id, n);
                let r = self.wire.send(stored).await;
                self.queue.pop().await.map_err(|_| Error::Storage)?;
                r
            };
            let _ = self.after_send(result);
        }
        Ok(None)
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
        self.link.closing = true;
        while self.is_connected() {
            match self.handle_buffered().await {
                Ok(Buffered::Handled | Buffered::Ready(_)) => continue,
                Ok(Buffered::NeedMore) => {}
                Err(reason) => {
                    self.link.lost.get_or_insert(reason);
                    break;
                }
            }
            let open = self.inflight.awaiting() > 0 || !self.incoming.is_empty();
            if !open || self.clock.now() >= deadline {
                break;
            }
            if let Err(reason) = self.fill_rx(Some(deadline)).await {
                self.link.lost.get_or_insert(reason);
            }
        }
        self.link.closing = false;
    }
}
