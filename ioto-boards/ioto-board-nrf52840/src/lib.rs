//! # ioto-board-nrf52840
//!
//! Board support for the Nordic **nRF52840** (Cortex-M4F, 1 MB flash, 256 KB RAM),
//! written against [`embassy_nrf`] 0.11. The defaults match the **nRF52840-DK**
//! (PCA10056); [`Config`] adapts them to other nRF52840 boards.
//!
//! What the board provides to Ioto-rs:
//!
//! | need | provided by |
//! |---|---|
//! | start-up, clocks, peripherals | [`init`] / [`init_with`] |
//! | time | `embassy-time` over RTC1 (32 768 Hz ticks) and [`EmbassyClock`] (an [`ioto_core::Clock`]) |
//! | console / log | the `log` facade over RTT ([`console`]), read by `probe-rs run` |
//! | randomness | the RNG peripheral as [`HwRng`] ([`ioto_core::Entropy`], `rand_core` 0.9 `CryptoRng`) |
//! | user LEDs | [`led`] (the DK's four active-low LEDs) |
//! | panics | [`panic::halt`], to call from the firmware's `#[panic_handler]` |
//!
//! ```no_run
//! #![no_std]
//! #![no_main]
//! use embassy_executor::Spawner;
//! use ioto_board_nrf52840 as board;
//! use ioto_core::{Clock, Entropy};
//!
//! #[embassy_executor::main]
//! async fn main(_spawner: Spawner) {
//!     let p = board::init();
//!     let mut rng = board::HwRng::new(p.RNG);
//!     let mut led = board::led::user_led(p.P0_13);
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
//! The crate only builds for `thumbv7em-none-eabihf`; firmware links it with
//! `-C link-arg=--nmagic -C link-arg=-Tlink.x` and a `memory.x` (see
//! `examples/nrf52840` in the Ioto-rs repository).
#![no_std]
#![deny(missing_docs)]

pub mod console;
pub mod led;
pub mod panic;
pub mod rng;
pub mod time;

pub use embassy_nrf as hal;
pub use embassy_nrf::Peripherals;
pub use rng::HwRng;
pub use time::EmbassyClock;

/// How [`init_with`] brings the chip up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Run the 64 MHz clock from the external 32 MHz crystal (HFXO) instead of the
    /// internal RC oscillator. Needed for the radio and for accurate UART baud rates.
    pub hfxo: bool,
    /// Run RTC1 (and so `embassy-time`) from the external 32.768 kHz crystal (LFXO)
    /// instead of the internal RC oscillator (±500 ppm after calibration vs ±20 ppm).
    pub lfxo: bool,
    /// Enable the REG1 DC/DC converter. Only set this when the board fits the
    /// converter's inductor (the DK does); without it the chip browns out.
    pub dcdc_reg1: bool,
    /// The most verbose `log` level the RTT console prints.
    pub log_level: log::LevelFilter,
}

impl Config {
    /// The nRF52840-DK (PCA10056): both crystals fitted, DC/DC inductor fitted, `Info` log level.
    pub const fn nrf52840_dk() -> Self {
        Self {
            hfxo: true,
            lfxo: true,
            dcdc_reg1: true,
            log_level: log::LevelFilter::Info,
        }
    }

    /// Internal oscillators only and LDO regulators: works on any nRF52840 module,
    /// including boards without crystals or DC/DC inductor.
    pub const fn minimal() -> Self {
        Self {
            hfxo: false,
            lfxo: false,
            dcdc_reg1: false,
            log_level: log::LevelFilter::Info,
        }
    }

    fn to_hal(self) -> hal::config::Config {
        use hal::config::{HfclkSource, LfclkSource};
        let mut c = hal::config::Config::default();
        c.hfclk_source = if self.hfxo {
            HfclkSource::ExternalXtal
        } else {
            HfclkSource::Internal
        };
        c.lfclk_source = if self.lfxo {
            LfclkSource::ExternalXtal
        } else {
            LfclkSource::InternalRC
        };
        c.dcdc.reg1 = self.dcdc_reg1;
        c
    }
}

impl Default for Config {
    /// [`Config::nrf52840_dk`].
    fn default() -> Self {
        Self::nrf52840_dk()
    }
}

/// Brings the board up with [`Config::default`] (the nRF52840-DK) and returns the
/// peripherals. See [`init_with`].
pub fn init() -> Peripherals {
    init_with(Config::default())
}

/// Brings the board up: starts the RTT console and the `log` logger, configures the
/// clock sources and regulators, starts the `embassy-time` driver on RTC1 and the
/// GPIOTE interrupt, and returns the chip's peripherals.
///
/// # Panics
///
/// If called twice (the peripherals can be taken only once).
pub fn init_with(config: Config) -> Peripherals {
    console::init(config.log_level);
    let p = hal::init(config.to_hal());
    log::debug!("ioto-board-nrf52840 up: {:?}", config);
    p
}
