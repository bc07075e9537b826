//! The chip's flash split into the agent's two partitions: the outbox (records waiting
//! for the broker, `ioto_transport::storage::outbox::FlashOutbox`) and the config
//! (credentials and settings, `ioto_transport::storage::config::ConfigStore`).
//!
//! Both are `embedded-storage-async` `MultiwriteNorFlash` views
//! ([`embassy_embedded_hal::flash::partition::Partition`]) of one flash behind an
//! async mutex, so the two stores can work at the same time. Addresses inside a
//! partition start at 0: open the stores on `0..partition.size()`.
//!
//! The firmware's linker script must keep code out of both ranges (each board's
//! `memory.x` ends `FLASH` where the first partition starts).

use core::ops::Range;

use embassy_embedded_hal::flash::partition::Partition;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::mutex::Mutex;
use embedded_storage_async::nor_flash::NorFlash;

/// The flash behind the partitions.
pub type SharedFlash<F> = Mutex<CriticalSectionRawMutex, F>;
/// One partition of it.
pub type FlashPartition<F> = Partition<'static, CriticalSectionRawMutex, F>;

/// Where the partitions lie, as byte offsets into the chip's flash (the flash
/// driver's addresses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The outbox (at least one erase page; more pages hold more records).
    pub outbox: Range<u32>,
    /// The config map (at least two erase pages).
    pub config: Range<u32>,
}

/// Why a [`Layout`] does not fit the flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// A range does not start and end on erase-page boundaries.
    Unaligned,
    /// A range is too small (outbox: one page, config: two) or ends beyond the flash.
    Size,
    /// The two ranges overlap.
    Overlap,
    /// The flash was already split (one [`Storage`] per firmware).
    Taken,
}

impl core::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            LayoutError::Unaligned => "a partition is not aligned to erase pages",
            LayoutError::Size => "a partition is too small or beyond the end of the flash",
            LayoutError::Overlap => "the partitions overlap",
            LayoutError::Taken => "the flash was already split",
        })
    }
}

impl core::error::Error for LayoutError {}

impl Layout {
    /// Checks the layout against a flash of `capacity` bytes with erase pages of
    /// `page` bytes.
    ///
    /// # Errors
    ///
    /// The first [`LayoutError`] found.
    pub fn check(&self, capacity: usize, page: usize) -> Result<(), LayoutError> {
        let page = page as u32;
        let fits = |r: &Range<u32>, pages: u32| {
            if !r.start.is_multiple_of(page) || !r.end.is_multiple_of(page) {
                return Err(LayoutError::Unaligned);
            }
            let big_enough = r.end >= r.start && r.end - r.start >= pages * page;
            if !big_enough || r.end as usize > capacity {
                return Err(LayoutError::Size);
            }
            Ok(())
        };
        fits(&self.outbox, 1)?;
        fits(&self.config, 2)?;
        if self.outbox.start < self.config.end && self.config.start < self.outbox.end {
            return Err(LayoutError::Overlap);
        }
        Ok(())
    }
}

/// The two partitions of the board's flash.
pub struct Storage<F: NorFlash + 'static> {
    /// The outbox's partition.
    pub outbox: FlashPartition<F>,
    /// The config partition.
    pub config: FlashPartition<F>,
}

impl<F: NorFlash + 'static> Storage<F> {
    /// Splits `flash` (in a `static`, e.g. a `StaticCell`) as `layout` says.
    ///
    /// # Errors
    ///
    /// [`LayoutError`] if the layout does not fit the flash.
    pub fn split(flash: &'static SharedFlash<F>, layout: &Layout) -> Result<Self, LayoutError> {
        // The flash's size is only known through the driver; `NorFlash::capacity`
        // needs `&self`, so borrow it without waiting (nobody else holds it yet).
        let capacity = flash
            .try_lock()
            .map(|f| f.capacity())
            .map_err(|_| LayoutError::Taken)?;
        layout.check(capacity, F::ERASE_SIZE)?;
        // READ_SIZE and WRITE_SIZE divide the erase page on every NOR flash, so the
        // page-aligned ranges satisfy `Partition::new`'s checks as well.
        if !F::ERASE_SIZE.is_multiple_of(F::READ_SIZE)
            || !F::ERASE_SIZE.is_multiple_of(F::WRITE_SIZE)
        {
            return Err(LayoutError::Unaligned);
        }
        let part = |r: &Range<u32>| Partition::new(flash, r.start, r.end - r.start);
        Ok(Self {
            outbox: part(&layout.outbox),
            config: part(&layout.config),
        })
    }
}

impl<F: NorFlash + 'static> core::fmt::Debug for Storage<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let range = |p: &FlashPartition<F>| p.offset()..p.offset() + p.size();
        f.debug_struct("Storage")
            .field("outbox", &range(&self.outbox))
            .field("config", &range(&self.config))
            .finish()
    }
}
