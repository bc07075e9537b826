//! Offline escalation queue: when the cloud cannot be reached, the question waits in
//! an [`Outbox`] (RAM [`RamQueue`](ioto_core::outbox::RamQueue), or flash so it
//! survives a reset) with an expiry, and is sent when the link returns. Expired
//! entries are dropped and counted.
//!
//! Each escalation is one record: `queued_at` (µs, u64 LE), `expires_at` (µs, u64 LE),
//! then the payload bytes (the context JSON or the request body).
//!
//! ```
//! use ioto_cloud::escalation::EscalationQueue;
//! use ioto_core::Instant;
//! use ioto_core::outbox::RamQueue;
//!
//! # embassy_futures::block_on(async {
//! let mut mem = [0u8; 256];
//! let mut q = EscalationQueue::new(RamQueue::new(&mut mem, 4));
//! q.enqueue(Instant(0), br#"{"rms":0.9}"#, 60_000).await.unwrap();
//! let mut buf = [0u8; 64];
//! let e = q.next(Instant(1_000), &mut buf).await.unwrap().unwrap();
//! assert_eq!(e.payload, br#"{"rms":0.9}"#);
//! // ... the model answered:
//! assert!(q.done().await.unwrap());
//! # });
//! ```

use core::fmt;
use ioto_core::Instant;
use ioto_core::outbox::Outbox;

/// Bytes of the record header (`queued_at`, `expires_at`).
pub const HEADER_LEN: usize = 16;

/// One queued escalation, borrowed from the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escalation<'b> {
    /// When it was queued.
    pub queued_at: Instant,
    /// From this instant on it is dropped unsent.
    pub expires_at: Instant,
    /// What to send (the context or the request JSON).
    pub payload: &'b [u8],
}

/// Why the queue could not do what was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscalationError<E> {
    /// No room for the record now (send or drop older ones first).
    Full,
    /// The record (header + payload, `len` bytes) can never fit into this store.
    TooLarge {
        /// Record length in bytes.
        len: usize,
    },
    /// The caller's buffer is shorter than the oldest record (`len` bytes); nothing
    /// was dropped.
    BufferTooSmall {
        /// Record length in bytes.
        len: usize,
    },
    /// The store failed.
    Store(E),
}

impl<E: fmt::Debug> fmt::Display for EscalationError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("escalation queue full"),
            Self::TooLarge { len } => write!(f, "escalation of {len} bytes can never fit"),
            Self::BufferTooSmall { len } => {
                write!(f, "escalation of {len} bytes: buffer too small")
            }
            Self::Store(e) => write!(f, "escalation store: {e:?}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for EscalationError<E> {}

/// Expiry on top of an [`Outbox`].
#[derive(Debug)]
pub struct EscalationQueue<S> {
    store: S,
    expired: u32,
    corrupt: u32,
}

impl<S: Outbox> EscalationQueue<S> {
    /// Wraps a store (records already in it are kept).
    pub fn new(store: S) -> Self {
        Self {
            store,
            expired: 0,
            corrupt: 0,
        }
    }

    /// Queues `payload`, valid for `ttl_ms` from `now`.
    pub async fn enqueue(
        &mut self,
        now: Instant,
        payload: &[u8],
        ttl_ms: u64,
    ) -> Result<(), EscalationError<S::Error>> {
        let len = HEADER_LEN + payload.len();
        if !self.store.can_ever_hold(len) {
            return Err(EscalationError::TooLarge { len });
        }
        let expires = now.as_micros().saturating_add(ttl_ms.saturating_mul(1000));
        let mut record = alloc::vec::Vec::with_capacity(len);
        record.extend_from_slice(&now.as_micros().to_le_bytes());
        record.extend_from_slice(&expires.to_le_bytes());
        record.extend_from_slice(payload);
        match self.store.push_back(&record).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(EscalationError::Full),
            Err(e) => Err(EscalationError::Store(e)),
        }
    }

    /// The oldest unexpired escalation, read into `buf`. Expired records (and records
    /// too short to hold a header) are dropped and counted on the way. It stays queued
    /// until [`done`](Self::done).
    pub async fn next<'b>(
        &mut self,
        now: Instant,
        buf: &'b mut [u8],
    ) -> Result<Option<Escalation<'b>>, EscalationError<S::Error>> {
        let len = loop {
            let Some(len) = self
                .store
                .read_front(buf)
                .await
                .map_err(EscalationError::Store)?
            else {
                return Ok(None);
            };
            if len > buf.len() {
                return Err(EscalationError::BufferTooSmall { len });
            }
            let keep = match header(&buf[..len]) {
                Some((_, expires_at)) if expires_at > now => true,
                Some(_) => {
                    self.expired = self.expired.saturating_add(1);
                    false
                }
                None => {
                    self.corrupt = self.corrupt.saturating_add(1);
                    false
                }
            };
            if keep {
                break len;
            }
            self.store
                .pop_front()
                .await
                .map_err(EscalationError::Store)?;
        };
        let buf: &'b [u8] = buf;
        let Some((queued_at, expires_at)) = header(&buf[..len]) else {
            return Ok(None);
        };
        Ok(Some(Escalation {
            queued_at,
            expires_at,
            payload: &buf[HEADER_LEN..len],
        }))
    }

    /// Removes the escalation returned by [`next`](Self::next) once the model answered.
    /// `Ok(false)` when the queue was empty.
    pub async fn done(&mut self) -> Result<bool, EscalationError<S::Error>> {
        self.store.pop_front().await.map_err(EscalationError::Store)
    }

    /// Escalations dropped because they expired.
    pub fn expired(&self) -> u32 {
        self.expired
    }

    /// Records dropped because they were too short to be an escalation.
    pub fn corrupt(&self) -> u32 {
        self.corrupt
    }

    /// Escalations waiting (expired ones not yet dropped included).
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// The store back.
    pub fn into_inner(self) -> S {
        self.store
    }
}

fn header(record: &[u8]) -> Option<(Instant, Instant)> {
    let q = record.get(..8)?.try_into().ok()?;
    let e = record.get(8..HEADER_LEN)?.try_into().ok()?;
    Some((
        Instant(u64::from_le_bytes(q)),
        Instant(u64::from_le_bytes(e)),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use embassy_futures::block_on;
    use ioto_core::outbox::{RAM_RECORD_OVERHEAD, RamQueue};

    #[test]
    fn expired_escalations_are_dropped_and_counted() {
        block_on(async {
            let mut mem = [0u8; 512];
            let mut q = EscalationQueue::new(RamQueue::new(&mut mem, 8));
            // queued at 1 s: "a" lives 1 s, "b" 10 s, "c" 2 s.
            let t0 = Instant(1_000_000);
            q.enqueue(t0, b"a", 1_000).await.unwrap();
            q.enqueue(t0, b"b", 10_000).await.unwrap();
            q.enqueue(t0, b"c", 2_000).await.unwrap();
            let mut buf = [0u8; 64];
            // 1.5 s: nothing expired yet.
            let e = q.next(Instant(1_500_000), &mut buf).await.unwrap().unwrap();
            assert_eq!(e.payload, b"a");
            assert_eq!(e.queued_at, Instant(1_000_000));
            assert_eq!(e.expires_at, Instant(2_000_000));
            assert_eq!(q.expired(), 0);
            // 2 s exactly: "a" expires (expires_at is the first instant it is dead).
            let e = q.next(Instant(2_000_000), &mut buf).await.unwrap().unwrap();
            assert_eq!(e.payload, b"b");
            assert_eq!(q.expired(), 1);
            assert_eq!(q.len(), 2);
            assert!(q.done().await.unwrap());
            // 3.1 s: "c" (dead from 3 s) is dropped too; nothing left.
            assert_eq!(q.next(Instant(3_100_000), &mut buf).await.unwrap(), None);
            assert_eq!(q.expired(), 2);
            assert!(q.is_empty());
            assert!(!q.done().await.unwrap());
        });
    }

    #[test]
    fn record_layout_is_two_le_timestamps_then_payload() {
        block_on(async {
            let mut mem = [0u8; 128];
            let mut q = EscalationQueue::new(RamQueue::new(&mut mem, 4));
            q.enqueue(Instant(0x0102), b"xy", 1).await.unwrap();
            let mut store = q.into_inner();
            let mut raw = [0u8; 32];
            let n = store.read_front(&mut raw).await.unwrap().unwrap();
            // 0x0102 µs queued, + 1 ms = 0x0102 + 1000 = 0x04EA µs.
            let expected = [
                0x02, 0x01, 0, 0, 0, 0, 0, 0, 0xEA, 0x04, 0, 0, 0, 0, 0, 0, b'x', b'y',
            ];
            assert_eq!(&raw[..n], &expected);
        });
    }

    #[test]
    fn full_too_large_small_buffer_and_corrupt_records_are_typed() {
        block_on(async {
            // Room for two 20-byte records (16 + 4 payload) and their overhead.
            let cap = 2 * (HEADER_LEN + 4 + RAM_RECORD_OVERHEAD);
            let mut mem = [0u8; 256];
            let mut q = EscalationQueue::new(RamQueue::new(&mut mem[..cap], 8));
            q.enqueue(Instant(0), b"1234", 10).await.unwrap();
            q.enqueue(Instant(0), b"5678", 10).await.unwrap();
            assert_eq!(
                q.enqueue(Instant(0), b"9abc", 10).await,
                Err(EscalationError::Full)
            );
            let big = [0u8; 300];
            assert!(matches!(
                q.enqueue(Instant(0), &big, 10).await,
                Err(EscalationError::TooLarge { len: 316 })
            ));
            let mut small = [0u8; 8];
            assert_eq!(
                q.next(Instant(0), &mut small).await,
                Err(EscalationError::BufferTooSmall { len: 20 })
            );
            assert_eq!(q.len(), 2, "nothing dropped for a short buffer");

            let mut mem2 = [0u8; 64];
            let mut raw = RamQueue::new(&mut mem2, 4);
            raw.push_back(b"short").await.unwrap();
            let mut q = EscalationQueue::new(raw);
            let mut buf = [0u8; 32];
            assert_eq!(q.next(Instant(0), &mut buf).await.unwrap(), None);
            assert_eq!((q.corrupt(), q.expired()), (1, 0));
        });
    }
}
