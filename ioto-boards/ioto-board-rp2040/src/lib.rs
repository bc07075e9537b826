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

pub use board::{Board, Spare};
pub use embassy_rp as hal;
pub use embassy_rp::Peripherals;
pub use ioto_board_embassy::{self as common, Credentials, Net, NetError};
pub use rng::HwRng;
pub use time::EmbassyClock;

embassy_rp::bind_interrupts!(
    /// The interrupts the board's drivers use (sensor I²C, the radio's PIO, DMA).
    pub struct Irqs {
        I2C0_IRQ => embassy_rp::i2c::InterruptHandler<embassy_rp::peripherals::I2C0>;
        PIO0_IRQ_0 => embassy_rp::pio::InterruptHandler<embassy_rp::peripherals::PIO0>;
        DMA_IRQ_0 => embassy_rp::dma::InterruptHandler<embassy_rp::peripherals::DMA_CH0>,
            embassy_rp::dma::InterruptHandler<embassy_rp::peripherals::DMA_CH1>;
    }
);

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
