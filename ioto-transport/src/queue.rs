//! A bounded offline queue of byte records with an explicit policy for when it is
//! full, over a pluggable [`QueueStorage`] (RAM now, flash later).
//!
//! The MQTT client keeps publishes made while it is disconnected (or while its
//! in-flight window is full) here, as encoded PUBLISH packets, and drains them in
//! order once it can send.

/// Where queued records live. Records are opaque byte strings kept in FIFO order.
///
/// Implementations must keep records intact: a record read back is byte-for-byte the
/// one pushed. The methods are async so a flash-backed store can wait for erases.
#[allow(async_fn_in_trait)]
pub trait QueueStorage {
    /// Storage failure (flash I/O...). The RAM store never fails.
    type Error: core::fmt::Debug;

    /// Appends `record`. Returns `Ok(false)` (storing nothing) when there is no room.
    async fn push_back(&mut self, record: &[u8]) -> Result<bool, Self::Error>;

    /// Copies the oldest record into `out` and returns its length, or `None` when
    /// empty. A record longer than `out` is an error of the caller; implementations
    /// return `Ok(Some(len))` with `len > out.len()` and copy nothing.
    async fn read_front(&mut self, out: &mut [u8]) -> Result<Option<usize>, Self::Error>;

    /// Removes the oldest record; `Ok(false)` when empty.
    async fn pop_front(&mut self) -> Result<bool, Self::Error>;

    /// Number of records held.
    fn len(&self) -> usize;

    /// True when no record is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when a record of `len` bytes would fit into the empty store.
    fn can_ever_hold(&self, len: usize) -> bool;
}

/// What the queue does with a new record when it is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum QueuePolicy {
    /// Evict the oldest records until the new one fits (keeps the freshest data).
    #[default]
    DropOldest,
    /// Discard the new record (keeps the oldest data).
    DropNewest,
    /// Refuse the new record with [`QueueError::Full`] so the caller can decide.
    Reject,
}

/// Why a record was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueError<E> {
    /// The queue is full and the policy is [`QueuePolicy::Reject`].
    Full,
    /// The record is larger than the whole store.
    TooLarge,
    /// The storage failed.
    Storage(E),
}

/// What happened to a pushed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Stored; `evicted` older records were dropped to make room.
    Stored {
        /// Records dropped by [`QueuePolicy::DropOldest`].
        evicted: usize,
    },
    /// Discarded by [`QueuePolicy::DropNewest`].
    Discarded,
}

/// A bounded FIFO with an overflow policy and a count of dropped records.
#[derive(Debug)]
pub struct OfflineQueue<S> {
    storage: S,
    policy: QueuePolicy,
    dropped: u32,
}

impl<S: QueueStorage> OfflineQueue<S> {
    /// Wraps `storage` with `policy`.
    pub const fn new(storage: S, policy: QueuePolicy) -> Self {
        OfflineQueue {
            storage,
            policy,
            dropped: 0,
        }
    }

    /// Records dropped so far (evicted or discarded), saturating.
    pub const fn dropped(&self) -> u32 {
        self.dropped
    }

    /// The overflow policy.
    pub const fn policy(&self) -> QueuePolicy {
        self.policy
    }

    /// The storage behind the queue.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Records waiting.
    pub fn len(&self) -> usize {
        self.storage.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.storage.is_empty()
    }

    /// Counts one more dropped record (the client uses it for records it cannot send).
    pub fn count_dropped(&mut self) {
        self.dropped = self.dropped.saturating_add(1);
    }

    /// Appends `record`, applying the policy when full.
    pub async fn push(&mut self, record: &[u8]) -> Result<Pushed, QueueError<S::Error>> {
        if !self.storage.can_ever_hold(record.len()) {
            return Err(QueueError::TooLarge);
        }
        let mut evicted = 0;
        loop {
            if self
                .storage
                .push_back(record)
                .await
                .map_err(QueueError::Storage)?
            {
                return Ok(Pushed::Stored { evicted });
            }
            match self.policy {
                QueuePolicy::Reject => return Err(QueueError::Full),
                QueuePolicy::DropNewest => {
                    self.count_dropped();
                    return Ok(Pushed::Discarded);
                }
                QueuePolicy::DropOldest => {
                    if !self
                        .storage
                        .pop_front()
                        .await
                        .map_err(QueueError::Storage)?
                    {
                        return Err(QueueError::TooLarge);
                    }
                    self.count_dropped();
                    evicted += 1;
                }
            }
        }
    }

    /// Copies the oldest record into `out`; see [`QueueStorage::read_front`].
    pub async fn front(&mut self, out: &mut [u8]) -> Result<Option<usize>, S::Error> {
        self.storage.read_front(out).await
    }

    /// Removes the oldest record.
    pub async fn pop(&mut self) -> Result<bool, S::Error> {
        self.storage.pop_front().await
    }
}

/// Bytes of bookkeeping per record in [`RamQueue`].
pub const RAM_RECORD_OVERHEAD: usize = 4;

/// A [`QueueStorage`] in a caller-owned RAM buffer: a ring of length-prefixed records,
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

impl QueueStorage for RamQueue<'_> {
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
