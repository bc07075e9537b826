//! The sensor bus: I²C0, async, on GP4 (SDA) / GP5 (SCL) by default (Pico pins 6 / 7).

use embassy_rp::Peri;
use embassy_rp::i2c::{self, Async, I2c, SclPin, SdaPin};
use embassy_rp::peripherals::I2C0;

use crate::Irqs;

/// The I²C bus for sensors (`embedded_hal_async::i2c::I2c`), e.g. for
/// `ioto_core::sensor::Lis3dh` or `Sht3x`.
pub type SensorI2c = I2c<'static, I2C0, Async>;

/// I²C0 at 400 kHz (sensor breakouts bring their pull-ups).
pub fn i2c(
    i2c0: Peri<'static, I2C0>,
    sda: Peri<'static, impl SdaPin<I2C0>>,
    scl: Peri<'static, impl SclPin<I2C0>>,
) -> SensorI2c {
    let mut config = i2c::Config::default();
    config.frequency = 400_000;
    I2c::new_async(i2c0, scl, sda, Irqs, config)
}
