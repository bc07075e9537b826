#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]

pub mod console;
pub mod led;
pub mod net;
pub mod panic;
pub mod rng;
pub mod sensors;
pub mod storage;
pub mod time;

mod board;

pub use board::{Board, BoardError, Spare};
pub use embassy_nrf as hal;
pub use embassy_nrf::Peripherals;
pub use ioto_board_embassy::{self as common, Credentials, Net, NetError};
pub use rng::HwRng;
pub use time::EmbassyClock;

embassy_nrf::bind_interrupts!(
    /// The interrupts the board's drivers use (sensor I²C and SPI, the W5500's SPI).
    pub struct Irqs {
        TWISPI0 => embassy_nrf::twim::InterruptHandler<embassy_nrf::peripherals::TWISPI0>;
        SPI2 => embassy_nrf::spim::InterruptHandler<embassy_nrf::peripherals::SPI2>;
        SPIM3 => embassy_nrf::spim::InterruptHandler<embassy_nrf::peripherals::SPI3>;
    }
);

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
