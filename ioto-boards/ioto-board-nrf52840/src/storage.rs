//! The internal flash (NVMC) as `embedded-storage-async`, split into the outbox and
//! config partitions at the top of the 1 MB.
//!
//! | range | size | what |
//! |---|---|---|
//! | `0x0000_0000..0x000F_0000` | 960 KB | the firmware (`FLASH` in `memory.x`) |
//! | `0x000F_0000..0x000F_C000` | 48 KB (12 pages) | outbox ([`LAYOUT`]`.outbox`) |
//! | `0x000F_C000..0x0010_0000` | 16 KB (4 pages) | config ([`LAYOUT`]`.config`) |
//!
//! The NVMC erases 4 KB pages and writes 32-bit words, each word up to twice between
//! erases on the nRF52840 (`MultiwriteNorFlash`). Writes and erases stall the CPU
//! (≈ 41 µs a word, ≈ 85 ms a page), so the async wrapper completes at once.

use embassy_embedded_hal::adapter::BlockingAsync;
use embassy_nrf::Peri;
use embassy_nrf::nvmc::Nvmc;
use embassy_nrf::peripherals::NVMC;
use embassy_sync::mutex::Mutex;
use ioto_board_embassy::storage::{Layout, LayoutError, SharedFlash, Storage};
use static_cell::StaticCell;

/// The chip's flash as an async `MultiwriteNorFlash`.
pub type BoardFlash = BlockingAsync<Nvmc<'static>>;
/// The board's two partitions.
pub type BoardStorage = Storage<BoardFlash>;

/// Where the partitions lie (keep `memory.x`'s `FLASH` below `0xF0000`).
pub const LAYOUT: Layout = Layout {
    outbox: 0x000F_0000..0x000F_C000,
    config: 0x000F_C000..0x0010_0000,
};

static FLASH: StaticCell<SharedFlash<BoardFlash>> = StaticCell::new();

/// The flash split as `layout` says ([`LAYOUT`] by default).
///
/// # Errors
///
/// [`LayoutError`] if `layout` does not fit the 1 MB, [`LayoutError::Taken`] on a
/// second call.
pub fn storage(nvmc: Peri<'static, NVMC>, layout: &Layout) -> Result<BoardStorage, LayoutError> {
    let flash = FLASH
        .try_init(Mutex::new(BlockingAsync::new(Nvmc::new(nvmc))))
        .ok_or(LayoutError::Taken)?;
    Storage::split(flash, layout)
}
