//! [`RamQueue`]: an [`Outbox`] in a caller-owned RAM buffer.

use super::Outbox;

/// Bytes of bookkeeping per record in [`RamQueue`].
pub const RAM_RECORD_OVERHEAD: usize = 4;

/// A [`Outbox`] in a caller-owned RAM buffer: a ring of length-prefixed records,
/// optionally also capped at `max_records`.
#[derive(Debug)]
pub struct RamQueue<'a> {
    buf: &'a mut [u8],
    head: usize,
    used: usize,
    count: usize,
    max_records: usize,
}

impl<'a> RamQueue<'a> {
    /// A queue over `buf` holding at most `max_records` records.
    pub fn new(buf: &'a mut [u8], max_records: usize) -> Self {
        RamQueue {
            buf,
            head: 0,
            used: 0,
            count: 0,
            max_records,
        }
    }

    /// Bytes in use, including per-record overhead.
    pub const fn used_bytes(&self) -> usize {
        self.used
    }

    fn copy_in(&mut self, at: usize, data: &[u8]) {
        let cap = self.buf.len();
        let first = data.len().min(cap - at);
        self.buf[at..at + first].copy_from_slice(&data[..first]);
        self.buf[..data.len() - first].copy_from_slice(&data[first..]);
    }

    fn copy_out(&self, at: usize, out: &mut [u8]) {
        let cap = self.buf.len();
        let first = out.len().min(cap - at);
        out[..first].copy_from_slice(&self.buf[at..at + first]);
        let rest = out.len() - first;
        out[first..].copy_from_slice(&self.buf[..rest]);
    }

    fn front_len(&self) -> Option<usize> {
        if self.count == 0 {
            return None;
        }
        let mut len = [0u8; RAM_RECORD_OVERHEAD];
        self.copy_out(self.head, &mut len);
        Some(u32::from_le_bytes(len) as usize)
    }

    fn wrap(&self, pos: usize) -> usize {
        if self.buf.is_empty() {
            0
        } else {
            pos % self.buf.len()
        }
    }
}

impl Outbox for RamQueue<'_> {
    type Error = core::convert::Infallible;

    async fn push_back(&mut self, record: &[u8]) -> Result<bool, Self::Error> {
        let need = record.len() + RAM_RECORD_OVERHEAD;
        if self.count >= self.max_records || self.used + need > self.buf.len() {
            return Ok(false);
        }
        let Ok(len) = u32::try_from(record.len()) else {
            return Ok(false);
        };
        let tail = self.wrap(self.head + self.used);
        self.copy_in(tail, &len.to_le_bytes());
        let body = self.wrap(tail + RAM_RECORD_OVERHEAD);
        self.copy_in(body, record);
        self.used += need;
        self.count += 1;
        Ok(true)
    }

    async fn read_front(&mut self, out: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        let Some(len) = self.front_len() else {
            return Ok(None);
        };
        if let Some(dst) = out.get_mut(..len) {
            self.copy_out(self.wrap(self.head + RAM_RECORD_OVERHEAD), dst);
        }
        Ok(Some(len))
    }

    async fn pop_front(&mut self) -> Result<bool, Self::Error> {
        let Some(len) = self.front_len() else {
            return Ok(false);
        };
        self.head = self.wrap(self.head + RAM_RECORD_OVERHEAD + len);
        self.used -= RAM_RECORD_OVERHEAD + len;
        self.count -= 1;
        if self.count == 0 {
            self.head = 0;
        }
        Ok(true)
    }

    fn len(&self) -> usize {
        self.count
    }

    fn can_ever_hold(&self, len: usize) -> bool {
        self.max_records > 0 && len + RAM_RECORD_OVERHEAD <= self.buf.len()
    }
}
