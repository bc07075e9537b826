//! The in-flight store: QoS 1/2 publishes sent but not yet fully acknowledged, kept
//! as encoded packets in a caller-owned buffer so they can be re-sent (with DUP) after
//! a reconnect. Publishes whose handshake finished while the client was disconnecting
//! stay as small `Done` records until [`super::Client::poll`] reports them.

use crate::mqtt::types::ReasonCode;

/// Where a stored publish is in its acknowledgement flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// PUBLISH sent; waiting for PUBACK (QoS 1) or PUBREC (QoS 2).
    AwaitAck,
    /// PUBREL sent; waiting for PUBCOMP. The payload has been released.
    AwaitComp,
    /// Acknowledged (with this reason) during `disconnect`; not yet reported.
    Done(ReasonCode),
}

/// Per-record header: packet length (u32), packet id (u16), stage (u8), reason (u8).
const HEADER: usize = 8;

/// One stored record, as seen while walking the store.
pub(crate) struct Record<'s> {
    pub packet_id: u16,
    pub stage: Stage,
    pub packet: &'s mut [u8],
}

/// Records laid out back to back: `[len][id][stage][packet]...`. Removal closes the gap.
#[derive(Debug)]
pub(crate) struct InFlight<'a> {
    buf: &'a mut [u8],
    used: usize,
    count: usize,
}

impl<'a> InFlight<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        InFlight {
            buf,
            used: 0,
            count: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// Space for encoding the next packet in place (commit it with [`Self::commit`]).
    pub fn spare(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.used + HEADER..).unwrap_or(&mut [])
    }

    /// True when a packet of `len` bytes would fit into the empty store.
    pub fn can_ever_hold(&self, len: usize) -> bool {
        len + HEADER <= self.buf.len()
    }

    /// Stores the `len` bytes just encoded into [`Self::spare`] under `packet_id`.
    pub fn commit(&mut self, packet_id: u16, len: usize) -> &[u8] {
        let start = self.used;
        let Ok(len32) = u32::try_from(len) else {
            return &[];
        };
        write_header(
            &mut self.buf[start..start + HEADER],
            len32,
            packet_id,
            Stage::AwaitAck,
        );
        self.used += HEADER + len;
        self.count += 1;
        &self.buf[start + HEADER..self.used]
    }

    fn header_at(&self, offset: usize) -> (usize, u16, Stage) {
        let h = &self.buf[offset..offset + HEADER];
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let id = u16::from_le_bytes([h[4], h[5]]);
        let stage = match h[6] {
            0 => Stage::AwaitAck,
            1 => Stage::AwaitComp,
            _ => Stage::Done(ReasonCode(h[7])),
        };
        (len, id, stage)
    }

    /// Records still waiting for the broker (not `Done`).
    pub fn awaiting(&self) -> usize {
        let mut off = 0;
        let mut n = 0;
        while off < self.used {
            let (len, _, stage) = self.header_at(off);
            n += usize::from(!matches!(stage, Stage::Done(_)));
            off += HEADER + len;
        }
        n
    }

    /// The handshake of `packet_id` finished with `reason`: drop its bytes and keep
    /// only the outcome, for [`Self::take_done`]. False when not stored.
    pub fn mark_done(&mut self, packet_id: u16, reason: ReasonCode) -> bool {
        let Some((off, len, _)) = self.find(packet_id) else {
            return false;
        };
        self.close_gap(off + HEADER, len);
        write_header(
            &mut self.buf[off..off + HEADER],
            0,
            packet_id,
            Stage::Done(reason),
        );
        true
    }

    /// Removes and returns the oldest `Done` outcome.
    pub fn take_done(&mut self) -> Option<(u16, ReasonCode)> {
        let mut off = 0;
        while off < self.used {
            let (len, id, stage) = self.header_at(off);
            if let Stage::Done(reason) = stage {
                self.close_gap(off, HEADER + len);
                self.count -= 1;
                return Some((id, reason));
            }
            off += HEADER + len;
        }
        None
    }

    fn find(&self, packet_id: u16) -> Option<(usize, usize, Stage)> {
        let mut off = 0;
        while off < self.used {
            let (len, id, stage) = self.header_at(off);
            if id == packet_id {
                return Some((off, len, stage));
            }
            off += HEADER + len;
        }
        None
    }

    /// The stage of `packet_id`, if stored.
    pub fn stage(&self, packet_id: u16) -> Option<Stage> {
        self.find(packet_id).map(|(_, _, s)| s)
    }

    /// True when `packet_id` is in use.
    pub fn contains(&self, packet_id: u16) -> bool {
        self.find(packet_id).is_some()
    }

    /// QoS 2: PUBREC arrived; drop the packet bytes and wait for PUBCOMP.
    pub fn mark_released(&mut self, packet_id: u16) -> bool {
        let Some((off, len, Stage::AwaitAck | Stage::AwaitComp)) = self.find(packet_id) else {
            return false;
        };
        self.close_gap(off + HEADER, len);
        write_header(
            &mut self.buf[off..off + HEADER],
            0,
            packet_id,
            Stage::AwaitComp,
        );
        true
    }

    /// Forgets `packet_id`; returns whether it was stored.
    pub fn remove(&mut self, packet_id: u16) -> bool {
        let Some((off, len, _)) = self.find(packet_id) else {
            return false;
        };
        self.close_gap(off, HEADER + len);
        self.count -= 1;
        true
    }

    fn close_gap(&mut self, at: usize, n: usize) {
        self.buf.copy_within(at + n..self.used, at);
        self.used -= n;
    }

    /// The record starting at `offset` and the offset of the next one.
    pub fn record_at(&mut self, offset: usize) -> Option<(Record<'_>, usize)> {
        if offset >= self.used {
            return None;
        }
        let (len, packet_id, stage) = self.header_at(offset);
        let packet = &mut self.buf[offset + HEADER..offset + HEADER + len];
        Some((
            Record {
                packet_id,
                stage,
                packet,
            },
            offset + HEADER + len,
        ))
    }
}

fn write_header(h: &mut [u8], len: u32, packet_id: u16, stage: Stage) {
    h[..4].copy_from_slice(&len.to_le_bytes());
    h[4..6].copy_from_slice(&packet_id.to_le_bytes());
    (h[6], h[7]) = match stage {
        Stage::AwaitAck => (0, 0),
        Stage::AwaitComp => (1, 0),
        Stage::Done(reason) => (2, reason.0),
    };
}

/// Packet ids of incoming QoS 2 publishes whose PUBREL has not arrived yet; a PUBLISH
/// with one of these ids is a duplicate and is not delivered again.
#[derive(Debug)]
pub(crate) struct IncomingQos2<'a> {
    ids: &'a mut [u16],
    count: usize,
}

impl<'a> IncomingQos2<'a> {
    pub fn new(ids: &'a mut [u16]) -> Self {
        IncomingQos2 { ids, count: 0 }
    }

    pub fn capacity(&self) -> usize {
        self.ids.len()
    }

    pub fn contains(&self, id: u16) -> bool {
        self.ids[..self.count].contains(&id)
    }

    /// Records `id`; false when full.
    pub fn insert(&mut self, id: u16) -> bool {
        match self.ids.get_mut(self.count) {
            Some(slot) => {
                *slot = id;
                self.count += 1;
                true
            }
            None => false,
        }
    }

    /// Forgets `id`; returns whether it was recorded.
    pub fn remove(&mut self, id: u16) -> bool {
        match self.ids[..self.count].iter().position(|&x| x == id) {
            Some(i) => {
                self.ids.swap(i, self.count - 1);
                self.count -= 1;
                true
            }
            None => false,
        }
    }

    pub fn clear(&mut self) {
        self.count = 0;
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}
