//! Panic reporting for firmware built on this board.
//!
//! The board does not define a `#[panic_handler]` itself, because on-target test
//! binaries (embedded-test) bring their own. Firmware binds it in one line:
//!
//! ```ignore
//! #[panic_handler]
//! fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
//!     ioto_board_esp32c3::panic::halt(info)
//! }
//! ```

/// Logs `info` as an error over the console, then spins with interrupts masked, so
/// the message stays the last thing on the console and a debugger attached through
/// the built-in USB-JTAG finds the core parked here. Reset the chip to restart.
pub fn halt(info: &core::panic::PanicInfo<'_>) -> ! {
    log::error!("panic: {info}");
    critical_section::with(|_| {
        loop {
            core::hint::spin_loop();
        }
    })
}
