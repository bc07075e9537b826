//! The sensor buses: I²C (TWIM0) and SPI (SPIM2), both async (EasyDMA), at the
//! nRF52840-DK's Arduino-header pins by default (see the wiring table in the crate
//! docs).

use embassy_nrf::gpio::{Level, Output, OutputDrive, Pin};
use embassy_nrf::peripherals::{SPI2, TWISPI0};
use embassy_nrf::{Peri, spim, twim};
use embassy_time::Delay;
use embedded_hal_bus::spi::{DeviceError, ExclusiveDevice};
use static_cell::StaticCell;

use crate::Irqs;

/// The I²C bus for sensors (`embedded_hal_async::i2c::I2c`), e.g. for
/// `ioto_core::sensor::Lis3dh` or `Sht3x`.
pub type SensorI2c = embassy_nrf::twim::Twim<'static>;
/// One SPI sensor with its chip select (`embedded_hal_async::spi::SpiDevice`).
pub type SensorSpi = ExclusiveDevice<spim::Spim<'static>, Output<'static>, Delay>;
/// The error of [`SensorSpi`] transfers.
pub type SensorSpiError = DeviceError<spim::Error, core::convert::Infallible>;

/// Bytes of RAM the I²C driver copies writes from flash through (EasyDMA reads RAM
/// only); register writes are a few bytes.
const I2C_TX_BUFFER: usize = 32;

static I2C_TX: StaticCell<[u8; I2C_TX_BUFFER]> = StaticCell::new();

/// The I²C bus on TWIM0 at 400 kHz with the internal pull-ups off (sensor
/// breakouts bring their own). `None` if it was already made (one bus per chip).
pub fn i2c(
    twim: Peri<'static, TWISPI0>,
    sda: Peri<'static, impl Pin>,
    scl: Peri<'static, impl Pin>,
) -> Option<SensorI2c> {
    let buffer = I2C_TX.try_init([0; I2C_TX_BUFFER])?;
    let mut config = twim::Config::default();
    config.frequency = twim::Frequency::K400;
    Some(twim::Twim::new(twim, Irqs, sda, scl, config, buffer))
}

/// One SPI sensor on SPIM2 (mode 0, 8 MHz) with chip select `cs` (active low).
pub fn spi(
    spim: Peri<'static, SPI2>,
    sck: Peri<'static, impl Pin>,
    miso: Peri<'static, impl Pin>,
    mosi: Peri<'static, impl Pin>,
    cs: Peri<'static, impl Pin>,
) -> SensorSpi {
    let mut config = spim::Config::default();
    config.frequency = spim::Frequency::M8;
    let bus = spim::Spim::new(spim, Irqs, sck, miso, mosi, config);
    let cs = Output::new(cs, Level::High, OutputDrive::Standard);
    // ExclusiveDevice::new only fails when setting CS high fails, which a GPIO
    // output never does.
    match ExclusiveDevice::new(bus, cs, Delay) {
        Ok(device) => device,
        Err(never) => match never {},
    }
}
