//! # ioto-board-rp2040
//!
//! Board support for the Raspberry Pi **RP2040** (dual Cortex-M0+, 264 KB SRAM,
//! external QSPI flash — 2 MB on the Pico / Pico W), written against [`embassy_rp`]
//! 0.10. The defaults match the **Pico W** (12 MHz crystal, W25Q16JV flash, 125 MHz
//! system clock).
//!
//! What the board provides to Ioto-rs:
//!
//! | need | provided by |
//! |---|---|
//! | start-up, clocks, peripherals | [`init`] / [`init_with`] (boot2 for the W25Q flash is linked in by `embassy-rp`) |
//! | time | `embassy-time` over the 1 MHz TIMER and [`EmbassyClock`] (an [`ioto_core::Clock`]) |
//! | console / log | the `log` facade over RTT ([`console`]), read by `probe-rs run` |
//! | randomness | the ROSC random bit, debiased, as [`HwRng`] ([`ioto_core::Entropy`], `rand_core` 0.9) |
//! | LEDs | [`led`] (see there for the Pico W's CYW43-attached LED) |
//! | panics | [`panic::halt`], to call from the firmware's `#[panic_handler]` |
//!
//! `critical-section` is implemented by `embassy-rp` with hardware spinlock 31, so
//! it is safe across both cores.
//!
//! ```no_run
//! #![no_std]
//! #![no_main]
//! use embassy_executor::Spawner;
//! use ioto_board_rp2040 as board;
//! use ioto_core::{Clock, Entropy};
//!
//! #[embassy_executor::main]
//! async fn main(_spawner: Spawner) {
//!     let p = board::init();
//!     let mut rng = board::HwRng::new();
//!     let mut led = board::led::external_led(p.PIN_15);
//!     log::info!("boot at {} us, random {:08x}", board::EmbassyClock.now().as_micros(), rng.next_u32());
//!     loop {
//!         led.toggle();
//!         board::time::Timer::after_millis(500).await;
//!     }
//! }
//!
//! #[panic_handler]
//! fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
//!     board::panic::halt(info)
//! }
//! ```
//!
//! The crate only builds for `thumbv6m-none-eabi`; firmware links it with
//! `-C link-arg=--nmagic -C link-arg=-Tlink.x -C link-arg=-Tlink-rp.x` and a `memory.x`
//! with a `BOOT2` region (see `examples/rp2040` in the Ioto-rs repository).
#![no_std]
#![deny(missing_docs)]

pub mod console;
pub mod led;
pub mod panic;
pub mod rng;
pub mod time;

pub use embassy_rp as hal;
pub use embassy_rp::Peripherals;
pub use rng::HwRng;
pub use time::EmbassyClock;

/// How [`init_with`] brings the chip up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Frequency of the crystal on XIN/XOUT in Hz (12 MHz on the Pico and Pico W).
    /// The system clock is set to 125 MHz from it.
    pub crystal_hz: u32,
    /// The most verbose `log` level the RTT console prints.
    pub log_level: log::LevelFilter,
}

impl Config {
    /// The Raspberry Pi Pico W (and Pico): 12 MHz crystal, `Info` log level.
    pub const fn pico_w() -> Self {
        Self {
            crystal_hz: 12_000_000,
            log_level: log::LevelFilter::Info,
        }
    }
}

impl Default for Config {
    /// [`Config::pico_w`].
    fn default() -> Self {
        Self::pico_w()
    }
}

/// Brings the board up with [`Config::default`] (the Pico W) and returns the
/// peripherals. See [`init_with`].
pub fn init() -> Peripherals {
    init_with(Config::default())
}

/// Brings the board up: starts the RTT console and the `log` logger, starts the
/// crystal oscillator and PLLs (125 MHz system clock), starts the `embassy-time`
/// driver on TIMER and returns the chip's peripherals.
///
/// # Panics
///
/// If called twice (the peripherals can be taken only once).
pub fn init_with(config: Config) -> Peripherals {
    console::init(config.log_level);
    let p = hal::init(hal::config::Config::new(hal::clocks::ClockConfig::crystal(
        config.crystal_hz,
    )));
    log::debug!("ioto-board-rp2040 up: {:?}", config);
    p
}
