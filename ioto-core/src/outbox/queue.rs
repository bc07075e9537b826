//! [`OfflineQueue`]: an [`Outbox`] with an overflow policy and a count of dropped records.

use super::Outbox;

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

impl<S: Outbox> OfflineQueue<S> {
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

    /// Copies the oldest record into `out`; see [`Outbox::read_front`].
    pub async fn front(&mut self, out: &mut [u8]) -> Result<Option<usize>, S::Error> {
        self.storage.read_front(out).await
    }

    /// Removes the oldest record.
    pub async fn pop(&mut self) -> Result<bool, S::Error> {
        self.storage.pop_front().await
    }
}
