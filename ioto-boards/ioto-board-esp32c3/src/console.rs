//! The console: the [`log`] facade printed by `esp-println`.
//!
//! Output goes to the chip's built-in USB-serial-JTAG when a USB host has the port
//! open, otherwise to UART0 (GPIO21 TX at 115 200 Bd, the USB-UART bridge on
//! DevKit boards). `espflash monitor` and `probe-rs run` (through the built-in
//! USB-JTAG) both show it.

use core::cell::Cell;
use critical_section::Mutex;

static STARTED: Mutex<Cell<bool>> = Mutex::new(Cell::new(false));

/// Installs the `log` logger with `level` as the most verbose level printed.
/// [`crate::init`] calls it; later calls do nothing.
pub fn init(level: log::LevelFilter) {
    if critical_section::with(|cs| STARTED.borrow(cs).replace(true)) {
        return;
    }
    esp_println::logger::init_logger(level);
}
