//! [`FlashOutbox`]: the device's [`Outbox`] on NOR flash, surviving resets and power cuts.
//!
//! Records are the items of a `sequential-storage` [`QueueStorage`] on a page-aligned
//! flash range. A record is written with a CRC; popping one clears its header in place
//! (hence [`MultiwriteNorFlash`]); a page whose records are all popped is erased when
//! the queue moves past it. After a power cut, [`FlashOutbox::open`] walks the queue once
//! (counting the records), which lets `sequential-storage` repair what the cut left:
//! a half-erased page is erased again, a torn record fails its CRC and is skipped.
//! A record whose push returned `Ok(true)` and that was not popped is still there, in
//! order, byte for byte; the record being pushed or popped when the power went may be
//! there or not.
//!
//! The caller owns the scratch buffer: it bounds the largest record (rounded down to
//! the flash word); reopen with a buffer at least as large as the one records were
//! pushed with (a stored record that does not fit is [`StorageError::BufferTooSmall`]).
//!
//! `sequential-storage` repairs on its own: every queue operation that meets
//! corrupted state runs its (internal) repair once and retries. What it cannot repair
//! is [`StorageErrorKind::Corrupted`]; [`FlashOutbox::format`] then starts over. The
//! record count behind [`Outbox::len`] is taken at `open` and kept up to date; after a
//! failed operation it is recounted at the start of the next one. Give the outbox
//! `&mut flash` to keep the flash if `open` fails (e.g. to [`FlashOutbox::format`] it).
//!
//! **Images `sequential-storage` cannot have written.** Each page has a state from its
//! first and last word (free, partial-open = being written, closed = full); reading
//! starts at the oldest closed page and stops at the first free page, pushing goes to
//! the partial-open page (or the first free page after the closed ones). Only a ring
//! where, walking forward from the page being written, the free pages come first and
//! then the closed ones keeps both in step. On any other ring (a closed page cut off
//! from the page being written by a free one, two pages being written, every page
//! closed, two runs of closed pages), a push would land where no read reaches: it
//! would return `Ok(true)` and the record would never be read back. So before it
//! touches anything, [`FlashOutbox::open`] reads every page's markers (as
//! `sequential-storage` 8.0 reads them: a marker is set when at least 4 of its bits
//! are 0) and refuses such a ring with [`StorageError::Corrupted`], writing nothing;
//! the caller decides to [`FlashOutbox::format`] (losing what was there).
//!
//! A free page must be blank: `sequential-storage` starts writing a free page without
//! erasing it, so leftover bytes there that parse as records would turn up in front of
//! the records pushed to it. Once the ring is accepted, `open` therefore erases every
//! free page that is not all `0xFF`: a half-erased page (end marker without start
//! marker, an erase cut short) or a page of leftovers. A free page holds no records,
//! so nothing the outbox holds is lost. This reads the free pages once per `open`
//! (through the scratch buffer) and erases only what is not blank. Every ring a power cut can
//! leave during the outbox's own operations passes (the power-cut sweep of
//! `tests/outbox_power_cut.rs` checks this), and `tests/outbox_damaged_image.rs`
//! replays damaged images found by fuzzing.
//!
//! ```
//! use ioto_core::outbox::Outbox;
//! use ioto_transport::storage::{nor_sim::NorSim, outbox::FlashOutbox};
//!
//! # embassy_futures::block_on(async {
//! let mut image = [0xFFu8; 4 * 4096];
//! let mut buf = [0u8; 256];
//! {
//!     let flash: NorSim<_> = NorSim::new(&mut image[..]);
//!     let mut outbox = FlashOutbox::open(flash, 0..4 * 4096, &mut buf).await.unwrap();
//!     assert!(outbox.push_back(b"t=21.5").await.unwrap());
//!     assert!(outbox.push_back(b"t=21.7").await.unwrap());
//! } // reset
//!
//! let flash: NorSim<_> = NorSim::new(&mut image[..]);
//! let mut outbox = FlashOutbox::open(flash, 0..4 * 4096, &mut buf).await.unwrap();
//! assert_eq!(outbox.len(), 2);
//! let mut out = [0u8; 64];
//! assert_eq!(outbox.read_front(&mut out).await.unwrap(), Some(6));
//! assert_eq!(&out[..6], b"t=21.5");
//! assert!(outbox.pop_front().await.unwrap()); // acknowledged by the broker
//! assert_eq!(outbox.len(), 1);
//! # });
//! ```

use core::ops::Range;

use embedded_storage_async::nor_flash::{MultiwriteNorFlash, NorFlash};
use ioto_core::outbox::Outbox;
use sequential_storage::Error as SsError;
use sequential_storage::cache::{Cache, CacheImpl, Uncached};
use sequential_storage::queue::{QueueConfig, QueueStorage};

/// What kind of failure a [`StorageError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageErrorKind {
    /// The flash driver failed (I/O, power).
    Flash,
    /// The flash content is corrupted beyond what `sequential-storage` repairs;
    /// formatting the range (losing its content) makes it usable again.
    Corrupted,
    /// The caller's scratch buffer is too small for a stored item.
    BufferTooSmall,
    /// The record or value is larger than the store can ever hold (a flash page, or the
    /// scratch buffer).
    TooLarge,
    /// The store is full (configuration map only: a full outbox refuses with `Ok(false)`).
    Full,
    /// The flash range is not page-aligned or too small.
    BadRange,
    /// A configuration value could not be encoded or decoded.
    Serialization,
    /// `sequential-storage` reported an internal inconsistency.
    Internal,
}

/// A failure of the flash stores ([`FlashOutbox`], [`ConfigStore`](super::config::ConfigStore)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageError<E> {
    /// The flash driver failed.
    Flash(E),
    /// The flash content is corrupted beyond repair.
    Corrupted,
    /// The scratch buffer is too small; `needed` bytes (0: unknown).
    BufferTooSmall {
        /// Bytes needed, or 0 when not known.
        needed: usize,
    },
    /// The record or value can never be stored.
    TooLarge,
    /// The store is full.
    Full,
    /// The flash range is not page-aligned or too small.
    BadRange,
    /// A value could not be encoded or decoded.
    Serialization,
    /// Internal inconsistency in `sequential-storage`.
    Internal,
}

impl<E> StorageError<E> {
    /// The kind of failure.
    pub const fn kind(&self) -> StorageErrorKind {
        match self {
            StorageError::Flash(_) => StorageErrorKind::Flash,
            StorageError::Corrupted => StorageErrorKind::Corrupted,
            StorageError::BufferTooSmall { .. } => StorageErrorKind::BufferTooSmall,
            StorageError::TooLarge => StorageErrorKind::TooLarge,
            StorageError::Full => StorageErrorKind::Full,
            StorageError::BadRange => StorageErrorKind::BadRange,
            StorageError::Serialization => StorageErrorKind::Serialization,
            StorageError::Internal => StorageErrorKind::Internal,
        }
    }
}

impl<E> From<SsError<E>> for StorageError<E> {
    fn from(e: SsError<E>) -> Self {
        match e {
            SsError::Storage { value, .. } => StorageError::Flash(value),
            SsError::FullStorage => StorageError::Full,
            SsError::Corrupted { .. } => StorageError::Corrupted,
            SsError::BufferTooSmall(needed) => StorageError::BufferTooSmall { needed },
            SsError::BufferTooBig | SsError::ItemTooBig => StorageError::TooLarge,
            SsError::SerializationError(
                sequential_storage::map::SerializationError::BufferTooSmall,
            ) => StorageError::BufferTooSmall { needed: 0 },
            SsError::SerializationError(_) => StorageError::Serialization,
            _ => StorageError::Internal,
        }
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for StorageError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StorageError::Flash(e) => write!(f, "flash error: {e:?}"),
            StorageError::Corrupted => f.write_str("flash content corrupted"),
            StorageError::BufferTooSmall { needed } => {
                write!(f, "scratch buffer too small (need {needed} bytes)")
            }
            StorageError::TooLarge => f.write_str("item too large for the store"),
            StorageError::Full => f.write_str("store full"),
            StorageError::BadRange => f.write_str("flash range not page-aligned or too small"),
            StorageError::Serialization => f.write_str("value encoding failed"),
            StorageError::Internal => f.write_str("internal storage inconsistency"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for StorageError<E> {}

/// The `sequential-storage` cache that caches nothing (the default of the stores).
pub type NoCache<K = ()> = Cache<Uncached, Uncached, Uncached, K>;

/// An [`Outbox`] on a NOR flash range (see the [module docs](self)).
///
/// `C` is a `sequential-storage` cache (e.g. page states and pointers kept in RAM to
/// read less flash); the default caches nothing.
pub struct FlashOutbox<'a, F: NorFlash, C: CacheImpl<()> = NoCache> {
    queue: QueueStorage<F, C>,
    buf: &'a mut [u8],
    count: usize,
    /// An operation failed midway: `count` may be off, recount before the next one.
    recount: bool,
}

impl<'a, F: MultiwriteNorFlash> FlashOutbox<'a, F> {
    /// Opens the queue on `range` of `flash` (page-aligned, at least one page), repairing
    /// what a power cut left, and counts its records. `buf` is the scratch buffer: it
    /// must hold the largest record (rounded up to the flash word). A blank (erased)
    /// range is an empty outbox. Pages in states `sequential-storage` cannot have left
    /// are [`StorageError::Corrupted`], with nothing written (see the
    /// [module docs](self)).
    pub async fn open(
        flash: F,
        range: Range<u32>,
        buf: &'a mut [u8],
    ) -> Result<Self, StorageError<F::Error>> {
        Self::open_with_cache(flash, range, NoCache::new_uncached(), buf).await
    }

    /// Erases `range` and opens an empty outbox on it (all records are lost).
    pub async fn format(
        flash: F,
        range: Range<u32>,
        buf: &'a mut [u8],
    ) -> Result<Self, StorageError<F::Error>> {
        let config = QueueConfig::<F>::try_new(range).map_err(|_| StorageError::BadRange)?;
        let mut queue = QueueStorage::new(flash, config, NoCache::new_uncached());
        queue.erase_all().await?;
        Ok(FlashOutbox {
            queue,
            buf,
            count: 0,
            recount: false,
        })
    }
}

impl<'a, F: MultiwriteNorFlash, C: CacheImpl<()>> FlashOutbox<'a, F, C> {
    /// [`open`](FlashOutbox::open) with a `sequential-storage` cache. The cache must be
    /// new, or come from [`into_parts`](Self::into_parts) with the flash untouched since.
    pub async fn open_with_cache(
        flash: F,
        range: Range<u32>,
        cache: C,
        buf: &'a mut [u8],
    ) -> Result<Self, StorageError<F::Error>> {
        let config = QueueConfig::<F>::try_new(range).map_err(|_| StorageError::BadRange)?;
        let mut outbox = FlashOutbox {
            queue: QueueStorage::new(flash, config, cache),
            buf,
            count: 0,
            recount: true,
        };
        outbox.check_page_ring().await?;
        outbox.ensure_count().await?;
        Ok(outbox)
    }

    /// The largest record this outbox takes: what fits in one flash page after the page
    /// markers and the item header, and in the scratch buffer.
    pub fn max_record_len(&self) -> usize {
        let word = F::WRITE_SIZE.max(F::READ_SIZE);
        let header = QueueStorage::<F, C>::item_overhead_size() as usize;
        let page = F::ERASE_SIZE.saturating_sub(2 * word + header);
        let scratch = self.buf.len() / word * word;
        page.min(scratch).min(usize::from(u16::MAX))
    }

    /// Erases every record.
    pub async fn clear(&mut self) -> Result<(), StorageError<F::Error>> {
        self.recount = true;
        self.queue.erase_all().await?;
        self.count = 0;
        self.recount = false;
        Ok(())
    }

    /// The flash and the cache back.
    pub fn into_parts(self) -> (F, C) {
        self.queue.destroy()
    }

    /// Reads every page's markers and refuses (`Corrupted`) a ring of page states that
    /// `sequential-storage` cannot have written, writing nothing; then erases the free
    /// pages that are not blank (see the [module docs](self)).
    async fn check_page_ring(&mut self) -> Result<(), StorageError<F::Error>> {
        let range = self.queue.flash_range();
        let pages = (range.end - range.start) as usize / F::ERASE_SIZE;
        let mut ring = PageRing::default();
        for page in 0..pages {
            let (state, _) = self.page_state(range.start, page).await?;
            ring.push(state);
        }
        if !ring.consistent() {
            return Err(StorageError::Corrupted);
        }
        for page in 0..pages {
            let (state, half_erased) = self.page_state(range.start, page).await?;
            let start = range.start + (page * F::ERASE_SIZE) as u32;
            if state == PageState::Open && (half_erased || !self.blank(start).await?) {
                self.queue
                    .flash()
                    .erase(start, start + F::ERASE_SIZE as u32)
                    .await
                    .map_err(StorageError::Flash)?;
            }
        }
        Ok(())
    }

    /// The state of `page` from its markers, and whether it is half-erased (end marker
    /// without start marker: an erase cut short; free once erased again).
    async fn page_state(
        &mut self,
        base: u32,
        page: usize,
    ) -> Result<(PageState, bool), StorageError<F::Error>> {
        let start = base + (page * F::ERASE_SIZE) as u32;
        let start_marked = self.marker_set(start).await?;
        let end_marked = self
            .marker_set(start + (F::ERASE_SIZE - F::READ_SIZE) as u32)
            .await?;
        Ok(match (start_marked, end_marked) {
            (true, true) => (PageState::Closed, false),
            (true, false) => (PageState::PartialOpen, false),
            (false, half_erased) => (PageState::Open, half_erased),
        })
    }

    /// Whether the page at `start` is all `0xFF` (read through the scratch buffer).
    async fn blank(&mut self, start: u32) -> Result<bool, StorageError<F::Error>> {
        let chunk = self.buf.len() / F::READ_SIZE * F::READ_SIZE;
        if chunk == 0 {
            return Err(StorageError::BufferTooSmall {
                needed: F::READ_SIZE,
            });
        }
        let mut offset = 0;
        while offset < F::ERASE_SIZE {
            let len = chunk.min(F::ERASE_SIZE - offset);
            let bytes = self.buf.get_mut(..len).ok_or(StorageError::Internal)?;
            self.queue
                .flash()
                .read(start + offset as u32, bytes)
                .await
                .map_err(StorageError::Flash)?;
            if bytes.iter().any(|&b| b != 0xFF) {
                return Ok(false);
            }
            offset += len;
        }
        Ok(true)
    }

    /// Whether the marker word at `address` is set, as `sequential-storage` 8.0 reads
    /// it: at least 4 of its bits are 0.
    async fn marker_set(&mut self, address: u32) -> Result<bool, StorageError<F::Error>> {
        let mut word = [0u8; MAX_WORD];
        let word = word.get_mut(..F::READ_SIZE).ok_or(StorageError::Internal)?;
        self.queue
            .flash()
            .read(address, word)
            .await
            .map_err(StorageError::Flash)?;
        Ok(word.iter().map(|b| b.count_zeros()).sum::<u32>() >= 4)
    }

    /// Recounts the records when an earlier operation failed midway.
    async fn ensure_count(&mut self) -> Result<(), StorageError<F::Error>> {
        if !self.recount {
            return Ok(());
        }
        let mut iter = self.queue.iter().await?;
        let mut count = 0;
        while iter.next(self.buf).await?.is_some() {
            count += 1;
        }
        self.count = count;
        self.recount = false;
        Ok(())
    }
}

/// The largest flash word `sequential-storage` supports.
const MAX_WORD: usize = 32;

/// A page's state from its two marker words (start, end), as `sequential-storage` has it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PageState {
    /// Erased (or half-erased): free.
    Open,
    /// Start marker only: the page being written (the youngest).
    PartialOpen,
    /// Both markers: full, its records wait to be popped.
    Closed,
}

/// The page states around the ring, folded as they are read (no buffer per page).
#[derive(Default)]
struct PageRing {
    first: Option<PageState>,
    last: Option<PageState>,
    partial_open: usize,
    closed: usize,
    /// A closed page directly followed by a free page, and a free page directly followed
    /// by a closed page, around the ring (the wrap-around pair is added at the end).
    closed_to_free: usize,
    free_to_closed: usize,
    /// A partial-open page directly followed by a closed page, around the ring.
    partial_to_closed: usize,
    /// A closed page directly followed by the partial-open page, around the ring.
    closed_to_partial: usize,
}

impl PageRing {
    fn push(&mut self, state: PageState) {
        match state {
            PageState::PartialOpen => self.partial_open += 1,
            PageState::Closed => self.closed += 1,
            PageState::Open => {}
        }
        if let Some(prev) = self.last {
            self.pair(prev, state);
        } else {
            self.first = Some(state);
        }
        self.last = Some(state);
    }

    fn pair(&mut self, prev: PageState, next: PageState) {
        use PageState::{Closed, Open, PartialOpen};
        match (prev, next) {
            (Closed, Open) => self.closed_to_free += 1,
            (Closed, PartialOpen) => self.closed_to_partial += 1,
            (Open, Closed) => self.free_to_closed += 1,
            (PartialOpen, Closed) => self.partial_to_closed += 1,
            _ => {}
        }
    }

    /// Whether `sequential-storage` can have left this ring: walking forward from the
    /// youngest page, the free pages come first, then the closed ones (the oldest
    /// first), so that reading from the oldest meets every closed page before the
    /// youngest. That is: at most one partial-open page, the closed pages in one run,
    /// and that run ending at the partial-open page when there is one.
    fn consistent(mut self) -> bool {
        if let (Some(last), Some(first)) = (self.last, self.first) {
            self.pair(last, first);
        }
        match (self.partial_open, self.closed) {
            (_, 0) => self.partial_open <= 1,
            (0, _) => {
                // No page being written: one run of closed pages, one of free pages.
                // (All closed is refused: there is no page to write next.)
                self.closed_to_free == 1 && self.free_to_closed == 1
            }
            (1, _) => {
                // Closed run ends at the partial-open page, which is followed by free
                // pages (or, on a full ring, by the oldest closed page).
                self.closed_to_partial == 1
                    && self.closed_to_free == 0
                    && self.free_to_closed + self.partial_to_closed == 1
            }
            _ => false,
        }
    }
}

/// Maps a failure, flagging the count for a recount (the operation may have half-happened).
fn settle<T, E>(recount: &mut bool, result: Result<T, SsError<E>>) -> Result<T, StorageError<E>> {
    result.map_err(|e| {
        *recount = true;
        StorageError::from(e)
    })
}

impl<F: MultiwriteNorFlash, C: CacheImpl<()>> Outbox for FlashOutbox<'_, F, C> {
    type Error = StorageError<F::Error>;

    async fn push_back(&mut self, record: &[u8]) -> Result<bool, Self::Error> {
        if record.len() > self.max_record_len() {
            return Err(StorageError::TooLarge);
        }
        self.ensure_count().await?;
        match self.queue.push(record, false).await {
            Ok(()) => {
                self.count += 1;
                Ok(true)
            }
            Err(SsError::FullStorage) => Ok(false),
            Err(e) => settle(&mut self.recount, Err(e)),
        }
    }

    async fn read_front(&mut self, out: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        self.ensure_count().await?;
        let peeked = self.queue.peek(self.buf).await;
        let Some(record) = settle(&mut self.recount, peeked)? else {
            return Ok(None);
        };
        let len = record.len();
        if let Some(dst) = out.get_mut(..len) {
            dst.copy_from_slice(record);
        }
        Ok(Some(len))
    }

    async fn pop_front(&mut self) -> Result<bool, Self::Error> {
        self.ensure_count().await?;
        let popped = self.queue.pop(self.buf).await;
        let popped = settle(&mut self.recount, popped)?.is_some();
        if popped {
            self.count = self.count.saturating_sub(1);
        }
        Ok(popped)
    }

    fn len(&self) -> usize {
        self.count
    }

    fn can_ever_hold(&self, len: usize) -> bool {
        len <= self.max_record_len()
    }
}

impl<F: NorFlash, C: CacheImpl<()>> core::fmt::Debug for FlashOutbox<'_, F, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FlashOutbox")
            .field("range", &self.queue.flash_range())
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}
