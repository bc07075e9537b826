//! The one persistent-queue contract of the device: [`Outbox`], a FIFO of opaque byte
//! records, and what is built on it.
//!
//! Everything that must not be lost waits in an `Outbox`: the agent's telemetry and
//! events until the broker acknowledged them, the MQTT client's publishes made while
//! offline ([`OfflineQueue`], as encoded PUBLISH packets), the cloud escalations made
//! while the model could not be reached. Implementations: [`RamQueue`] (a caller-owned
//! RAM ring, lost at reset) here; on NOR flash through `sequential-storage`
//! (`ioto_transport::outbox::FlashOutbox`), surviving resets and power cuts.
//!
//! ```
//! use ioto_core::outbox::{OfflineQueue, Outbox, QueuePolicy, RamQueue};
//!
//! # embassy_futures::block_on(async {
//! let mut mem = [0u8; 64];
//! let mut q = OfflineQueue::new(RamQueue::new(&mut mem, 8), QueuePolicy::DropOldest);
//! q.push(b"first").await.unwrap();
//! q.push(b"second").await.unwrap();
//! let mut out = [0u8; 16];
//! assert_eq!(q.front(&mut out).await.unwrap(), Some(5));
//! assert_eq!(&out[..5], b"first");
//! assert!(q.pop().await.unwrap()); // delivered and acknowledged: now it may go
//! assert_eq!(q.len(), 1);
//! # });
//! ```

mod queue;
mod ram;

pub use queue::{OfflineQueue, Pushed, QueueError, QueuePolicy};
pub use ram::{RAM_RECORD_OVERHEAD, RamQueue};

/// A FIFO of opaque byte records: where everything waits that must not be lost.
///
/// Implementations must keep records intact: a record read back is byte-for-byte the
/// one pushed. The methods are async so a flash-backed store can wait for erases.
#[allow(async_fn_in_trait)]
pub trait Outbox {
    /// Storage failure (flash I/O, a corrupted record...). The RAM store never fails.
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

impl<T: Outbox + ?Sized> Outbox for &mut T {
    type Error = T::Error;

    async fn push_back(&mut self, record: &[u8]) -> Result<bool, Self::Error> {
        (**self).push_back(record).await
    }

    async fn read_front(&mut self, out: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        (**self).read_front(out).await
    }

    async fn pop_front(&mut self) -> Result<bool, Self::Error> {
        (**self).pop_front().await
    }

    fn len(&self) -> usize {
        (**self).len()
    }

    fn can_ever_hold(&self, len: usize) -> bool {
        (**self).can_ever_hold(len)
    }
}
