//! The QSPI flash as `embedded-storage-async` (reads by DMA), split into the outbox and
//! config partitions at the top of the Pico W's 2 MB.
//!
//! | range (offset in flash; XIP address + `0x1000_0000`) | size | what |
//! |---|---|---|
//! | `0x00_0000..0x00_0100` | 256 B | boot2 (`BOOT2` in `memory.x`) |
//! | `0x00_0100..0x1E_0000` | 1.9 MB | the firmware (`FLASH` in `memory.x`) |
//! | `0x1E_0000..0x1F_C000` | 112 KB (28 sectors) | outbox ([`LAYOUT`]`.outbox`) |
//! | `0x1F_C000..0x20_0000` | 16 KB (4 sectors) | config ([`LAYOUT`]`.config`) |
//!
//! Sectors are 4 KB; programming is per byte and a byte can be programmed again while
//! only clearing bits (`MultiwriteNorFlash`). While the flash erases or programs, code
//! cannot run from it: `embassy-rp` runs those operations from RAM with interrupts
//! off (≈ 45 ms a sector), and core 1 must not run from flash meanwhile.

use embassy_rp::Peri;
use embassy_rp::flash::{Async, Flash};
use embassy_rp::peripherals::{DMA_CH1, FLASH};
use embassy_sync::mutex::Mutex;
use ioto_board_embassy::storage::{Layout, LayoutError, SharedFlash, Storage};
use static_cell::StaticCell;

use crate::Irqs;

/// Size of the Pico W's flash (W25Q16JV).
pub const FLASH_SIZE: usize = 2 * 1024 * 1024;
/// The chip's flash as an async `MultiwriteNorFlash`.
pub type BoardFlash = Flash<'static, FLASH, Async, FLASH_SIZE>;
/// The board's two partitions.
pub type BoardStorage = Storage<BoardFlash>;

/// Where the partitions lie (keep `memory.x`'s `FLASH` below `0x101E0000`).
pub const LAYOUT: Layout = Layout {
    outbox: 0x1E_0000..0x1F_C000,
    config: 0x1F_C000..0x20_0000,
};

static SHARED: StaticCell<SharedFlash<BoardFlash>> = StaticCell::new();

/// The flash split as `layout` says ([`LAYOUT`] by default); reads use DMA channel 1.
///
/// # Errors
///
/// [`LayoutError`] if `layout` does not fit the 2 MB, [`LayoutError::Taken`] on a
/// second call.
pub fn storage(
    flash: Peri<'static, FLASH>,
    dma: Peri<'static, DMA_CH1>,
    layout: &Layout,
) -> Result<BoardStorage, LayoutError> {
    let shared = SHARED
        .try_init(Mutex::new(Flash::new(flash, dma, Irqs)))
        .ok_or(LayoutError::Taken)?;
    Storage::split(shared, layout)
}
