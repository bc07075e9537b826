//! Panic reporting for firmware built on this board.
//!
//! The board does not define a `#[panic_handler]` itself, because on-target test
//! binaries (embedded-test) bring their own. Firmware binds it in one line:
//!
//! ```ignore
//! #[panic_handler]
//! fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
//!     ioto_board_rp2040::panic::halt(info)
//! }
//! ```

/// Logs `info` as an error over the console, then executes a permanently undefined
/// instruction: the resulting HardFault stops `probe-rs run` with a backtrace and a
/// non-zero exit status. Without a debugger attached the core stays in the fault
/// handler until reset.
pub fn halt(info: &core::panic::PanicInfo<'_>) -> ! {
    log::error!("panic: {info}");
    cortex_m::asm::udf()
}
