//! The console of the boards flashed with a debug probe (nRF52840, RP2040): the
//! [`log`] facade printed over RTT (SEGGER Real-Time Transfer). Feature `rtt`.
//!
//! RTT needs no pins: the debug probe reads a ring buffer in RAM, so `probe-rs run`
//! shows the log next to flashing and backtraces. Writes never block: when no probe
//! drains the buffer, the newest bytes that do not fit are dropped.

use core::cell::Cell;
use critical_section::Mutex;

/// Size of the RTT up-channel buffer in bytes.
pub const BUFFER_BYTES: usize = 1024;

static STARTED: Mutex<Cell<bool>> = Mutex::new(Cell::new(false));

/// Sets up RTT channel 0 and installs the `log` logger with `level` as the most
/// verbose level printed. The board's `init` calls it; call it yourself only when you
/// bring the chip up without it. Later calls do nothing.
pub fn init(level: log::LevelFilter) {
    if critical_section::with(|cs| STARTED.borrow(cs).replace(true)) {
        return;
    }
    rtt_target::rtt_init_print!(rtt_target::ChannelMode::NoBlockSkip, BUFFER_BYTES);
    rtt_target::init_logger_with_level(level);
}
