//! The sensor bus: I2C0, async, on GPIO5 (SDA) / GPIO6 (SCL) by default.

use esp_hal::Async;
use esp_hal::gpio::interconnect::{PeripheralInput, PeripheralOutput};
use esp_hal::i2c::master::{Config, ConfigError, I2c};
use esp_hal::peripherals::I2C0;
use esp_hal::time::Rate;

/// The I²C bus for sensors (`embedded_hal_async::i2c::I2c`), e.g. for
/// `ioto_core::sensor::Lis3dh` or `Sht3x`.
pub type SensorI2c = I2c<'static, Async>;

/// I2C0 at 400 kHz on `sda` / `scl` (sensor breakouts bring their pull-ups).
///
/// # Errors
///
/// [`ConfigError`] if the bus clock cannot be set (it can at 400 kHz).
pub fn i2c(
    i2c0: I2C0<'static>,
    sda: impl PeripheralInput<'static> + PeripheralOutput<'static>,
    scl: impl PeripheralInput<'static> + PeripheralOutput<'static>,
) -> Result<SensorI2c, ConfigError> {
    let config = Config::default().with_frequency(Rate::from_khz(400));
    Ok(I2c::new(i2c0, config)?
        .with_sda(sda)
        .with_scl(scl)
        .into_async())
}
