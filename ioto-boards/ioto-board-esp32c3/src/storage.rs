//! The SPI flash as `embedded-storage-async` (`esp-storage`), split into the outbox and
//! config partitions named in the firmware's partition table.
//!
//! The ESP-IDF bootloader reads a partition table from flash offset `0x8000`;
//! `espflash flash --partition-table partitions.csv` writes the one in
//! `examples/esp32c3/partitions.csv`, which [`LAYOUT`] matches:
//!
//! | name | type | offset | size |
//! |---|---|---|---|
//! | `nvs` | data, nvs | `0x9000` | 24 KB |
//! | `phy_init` | data, phy | `0xF000` | 4 KB |
//! | `factory` | app | `0x10000` | 3 MB (the firmware) |
//! | `ioto_outbox` | data, `0x40` | `0x310000` | 256 KB ([`LAYOUT`]`.outbox`) |
//! | `ioto_config` | data, `0x41` | `0x350000` | 16 KB ([`LAYOUT`]`.config`) |
//!
//! Sectors are 4 KB, writes are 32-bit words and a word can be programmed again while
//! only clearing bits (`MultiwriteNorFlash`). Erasing and programming run from RAM
//! with the cache off (the CPU waits: ≈ 45 ms a sector), so the async wrapper
//! completes at once.

use embassy_embedded_hal::adapter::BlockingAsync;
use embassy_sync::mutex::Mutex;
use esp_hal::peripherals::FLASH;
use esp_storage::FlashStorage;
use ioto_board_embassy::storage::{Layout, LayoutError, SharedFlash, Storage};
use static_cell::StaticCell;

/// The chip's flash as an async `MultiwriteNorFlash`.
pub type BoardFlash = BlockingAsync<FlashStorage<'static>>;
/// The board's two partitions.
pub type BoardStorage = Storage<BoardFlash>;

/// Where the partitions lie: `ioto_outbox` and `ioto_config` of
/// `examples/esp32c3/partitions.csv`.
pub const LAYOUT: Layout = Layout {
    outbox: 0x31_0000..0x35_0000,
    config: 0x35_0000..0x35_4000,
};

static SHARED: StaticCell<SharedFlash<BoardFlash>> = StaticCell::new();

/// The flash split as `layout` says ([`LAYOUT`] by default).
///
/// # Errors
///
/// [`LayoutError`] if `layout` does not fit the chip's flash, [`LayoutError::Taken`] on
/// a second call.
pub fn storage(flash: FLASH<'static>, layout: &Layout) -> Result<BoardStorage, LayoutError> {
    let shared = SHARED
        .try_init(Mutex::new(BlockingAsync::new(FlashStorage::new(flash))))
        .ok_or(LayoutError::Taken)?;
    Storage::split(shared, layout)
}
