//! Sensirion SHT3x (SHT30/31/35) temperature and humidity sensor over async I2C.
//!
//! Single-shot measurements without clock stretching (SHT3x-DIS datasheet §4.3):
//! write the 16-bit command, wait the maximum measurement duration (§2.2), read
//! 6 bytes — temperature MSB, LSB, CRC, humidity MSB, LSB, CRC — and check each
//! word's CRC-8 (§4.12). Conversions are §4.13:
//! `T = −45 + 175 · S_T / 65535` °C, `RH = 100 · S_RH / 65535` %.
//!
//! ```rust
//! use ioto_core::sensor::sht3x::crc8;
//!
//! // The datasheet's check value (§4.12): CRC(0xBEEF) = 0x92.
//! assert_eq!(crc8(&[0xBE, 0xEF]), 0x92);
//! ```

use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::i2c::I2c;

use super::contract::{Channel, Error, ErrorKind, Sample, Sensor, Unit};
use crate::time::Clock;

/// CRC-8 polynomial x⁸ + x⁵ + x⁴ + 1 (§4.12).
const CRC_POLYNOMIAL: u8 = 0x31;
/// CRC-8 initial value (§4.12).
const CRC_INIT: u8 = 0xFF;
/// The fastest poll rate accepted: one high-repeatability measurement back to back.
const MAX_POLL_RATE_HZ: f32 = 1000.0 / 15.0;

const CHANNELS: [Channel; 2] = [
    Channel::new("temperature", Unit::DegreesCelsius),
    Channel::new("humidity", Unit::RelativeHumidityPercent),
];

/// The datasheet's CRC-8 over `bytes` (polynomial 0x31, initial value 0xFF, no
/// reflection, no final XOR), as the sensor appends it to every 16-bit word.
pub fn crc8(bytes: &[u8]) -> u8 {
    let mut crc = CRC_INIT;
    for &byte in bytes {
        crc ^= byte;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ CRC_POLYNOMIAL
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// An SHT3x on an I2C bus, waiting out conversions with a [`DelayNs`] and
/// timestamping samples with a [`Clock`].
#[derive(Debug)]
pub struct Sht3x<I2C, D, C> {
    i2c: I2C,
    delay: D,
    clock: C,
    address: Address,
    repeatability: Repeatability,
    poll_rate_hz: f32,
}

impl<I2C: I2c, D: DelayNs, C: Clock> Sht3x<I2C, D, C> {
    /// A driver for the sensor at `address`: high repeatability, polled at 1 Hz.
    /// The sensor needs no set-up; does no I/O.
    pub fn new(i2c: I2C, delay: D, clock: C, address: Address) -> Self {
        Self {
            i2c,
            delay,
            clock,
            address,
            repeatability: Repeatability::High,
            poll_rate_hz: 1.0,
        }
    }

    /// The same driver measuring at `repeatability` (lower is faster and noisier).
    pub fn with_repeatability(mut self, repeatability: Repeatability) -> Self {
        self.repeatability = repeatability;
        self
    }

    /// Sets the rate the application polls at, which [`Sensor::sample_rate_hz`]
    /// reports (a single-shot sensor has no rate of its own).
    ///
    /// # Errors
    ///
    /// [`Sht3xError::InvalidPollRate`] unless `0 < hz <= 66.6` (one measurement
    /// every 15 ms at most).
    pub fn set_poll_rate_hz(&mut self, hz: f32) -> Result<(), Sht3xError<I2C::Error>> {
        if !(hz > 0.0 && hz <= MAX_POLL_RATE_HZ) {
            return Err(Sht3xError::InvalidPollRate);
        }
        self.poll_rate_hz = hz;
        Ok(())
    }

    /// Runs one single-shot measurement: command, wait, read, check, convert.
    ///
    /// # Errors
    ///
    /// [`Sht3xError::Bus`] if a transfer fails (the sensor also NACKs a read while
    /// still measuring), [`Sht3xError::Checksum`] if a word's CRC does not match.
    pub async fn measure(&mut self) -> Result<Measurement, Sht3xError<I2C::Error>> {
        let address = self.address.bits();
        self.i2c
            .write(address, &self.repeatability.command().to_be_bytes())
            .await
            .map_err(Sht3xError::Bus)?;
        self.delay
            .delay_ms(self.repeatability.max_duration_ms())
            .await;
        let mut out = [0u8; 6];
        self.i2c
            .read(address, &mut out)
            .await
            .map_err(Sht3xError::Bus)?;
        let temperature = checked_word(Word::Temperature, [out[0], out[1], out[2]])?;
        let humidity = checked_word(Word::Humidity, [out[3], out[4], out[5]])?;
        Ok(Measurement {
            temperature_c: -45.0 + 175.0 * f32::from(temperature) / 65535.0,
            humidity_percent: 100.0 * f32::from(humidity) / 65535.0,
        })
    }

    /// Gives back the bus, the delay and the clock.
    pub fn release(self) -> (I2C, D, C) {
        (self.i2c, self.delay, self.clock)
    }
}

fn checked_word<E>(word: Word, [msb, lsb, crc]: [u8; 3]) -> Result<u16, Sht3xError<E>> {
    let expected = crc8(&[msb, lsb]);
    if crc != expected {
        return Err(Sht3xError::Checksum {
            word,
            expected,
            received: crc,
        });
    }
    Ok(u16::from_be_bytes([msb, lsb]))
}

impl<I2C: I2c, D: DelayNs, C: Clock> Sensor<2> for Sht3x<I2C, D, C> {
    type Error = Sht3xError<I2C::Error>;

    /// Temperature (°C) and relative humidity (%), stamped when the result was read.
    async fn read(&mut self) -> Result<Sample<2>, Self::Error> {
        let m = self.measure().await?;
        Ok(Sample::new(
            self.clock.now(),
            [m.temperature_c, m.humidity_percent],
        ))
    }

    fn sample_rate_hz(&self) -> f32 {
        self.poll_rate_hz
    }

    fn channels(&self) -> [Channel; 2] {
        CHANNELS
    }
}

/// One SHT3x measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Measurement {
    /// Temperature in °C (−45 to 130).
    pub temperature_c: f32,
    /// Relative humidity in % (0 to 100).
    pub humidity_percent: f32,
}

/// The sensor's 7-bit I2C address, set by its ADDR pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Address {
    /// ADDR low: `0x44`.
    #[default]
    Default,
    /// ADDR high: `0x45`.
    Alternate,
}

impl Address {
    /// The 7-bit address.
    pub const fn bits(self) -> u8 {
        match self {
            Self::Default => 0x44,
            Self::Alternate => 0x45,
        }
    }
}

/// Measurement repeatability: a trade of duration against noise (§4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Repeatability {
    /// Command `0x2400`, at most 15 ms; 0.04 °C / 0.08 %RH repeatability.
    High,
    /// Command `0x240B`, at most 6 ms.
    Medium,
    /// Command `0x2416`, at most 4 ms.
    Low,
}

impl Repeatability {
    /// The single-shot command, clock stretching disabled (§4.3).
    pub const fn command(self) -> u16 {
        match self {
            Self::High => 0x2400,
            Self::Medium => 0x240B,
            Self::Low => 0x2416,
        }
    }

    /// The maximum measurement duration in milliseconds (§2.2).
    pub const fn max_duration_ms(self) -> u32 {
        match self {
            Self::High => 15,
            Self::Medium => 6,
            Self::Low => 4,
        }
    }
}

/// Which word of a measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Word {
    /// The temperature word (bytes 0–2).
    Temperature,
    /// The humidity word (bytes 3–5).
    Humidity,
}

/// A failed SHT3x operation; `E` is the I2C bus error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Sht3xError<E> {
    /// The I2C transfer failed.
    Bus(E),
    /// A word's CRC did not match: the transfer was corrupted.
    Checksum {
        /// The word that failed.
        word: Word,
        /// The CRC computed over the received word.
        expected: u8,
        /// The CRC the sensor sent.
        received: u8,
    },
    /// A poll rate outside `0 < hz <= 66.6`.
    InvalidPollRate,
}

impl<E: embedded_hal_async::i2c::Error> Error for Sht3xError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Bus(_) => ErrorKind::Bus,
            Self::Checksum { .. } => ErrorKind::Checksum,
            Self::InvalidPollRate => ErrorKind::OutOfRange,
        }
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for Sht3xError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Bus(e) => write!(f, "SHT3x I2C transfer failed: {e:?}"),
            Self::Checksum {
                word,
                expected,
                received,
            } => write!(
                f,
                "SHT3x {word:?} CRC {received:#04x}, expected {expected:#04x}"
            ),
            Self::InvalidPollRate => f.write_str("SHT3x poll rate must be in (0, 66.6] Hz"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for Sht3xError<E> {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    extern crate std;

    use std::vec;

    use embassy_futures::block_on;
    use embedded_hal_async::i2c::{ErrorKind as BusErrorKind, NoAcknowledgeSource};
    use embedded_hal_mock::eh1::delay::{CheckedDelay, Transaction as Wait};
    use embedded_hal_mock::eh1::i2c::{Mock, Transaction};

    use super::*;
    use crate::time::Instant;

    struct Fixed;
    impl Clock for Fixed {
        fn now(&self) -> Instant {
            Instant(42)
        }
    }

    fn sht(i2c: &[Transaction], waits: &[Wait]) -> Sht3x<Mock, CheckedDelay, Fixed> {
        Sht3x::new(
            Mock::new(i2c),
            CheckedDelay::new(waits),
            Fixed,
            Address::Default,
        )
    }

    fn done(s: Sht3x<Mock, CheckedDelay, Fixed>) {
        let (mut i2c, mut delay, _) = s.release();
        i2c.done();
        delay.done();
    }

    #[test]
    fn crc_matches_the_datasheet_example_and_independent_values() {
        assert_eq!(crc8(&[0xBE, 0xEF]), 0x92);
        assert_eq!(crc8(&[0x66, 0x66]), 0x93);
        assert_eq!(crc8(&[0x80, 0x00]), 0xA2);
        assert_eq!(crc8(&[0x00, 0x00]), 0x81);
        assert_eq!(crc8(&[]), 0xFF);
    }

    #[test]
    fn single_shot_is_command_wait_read_and_converts() {
        // S_T = 0x6666 = 0.4 · 65535 → 25 °C; S_RH = 0x8000 → 50.0008 %.
        let mut s = sht(
            &[
                Transaction::write(0x44, vec![0x24, 0x00]),
                Transaction::read(0x44, vec![0x66, 0x66, 0x93, 0x80, 0x00, 0xA2]),
            ],
            &[Wait::async_delay_ms(15)],
        );
        let sample = block_on(s.read()).unwrap();
        assert_eq!(sample.at, Instant(42));
        assert!(
            (sample.values[0] - 25.0).abs() < 1e-4,
            "{:?}",
            sample.values
        );
        assert!((sample.values[1] - 50.000_76).abs() < 1e-3);
        assert_eq!(s.channels()[1].unit, Unit::RelativeHumidityPercent);
        done(s);
    }

    #[test]
    fn repeatability_picks_the_command_and_the_wait() {
        let mut s = Sht3x::new(
            Mock::new(&[
                Transaction::write(0x45, vec![0x24, 0x16]),
                Transaction::read(0x45, vec![0x00, 0x00, 0x81, 0xFF, 0xFF, 0xAC]),
            ]),
            CheckedDelay::new(&[Wait::async_delay_ms(4)]),
            Fixed,
            Address::Alternate,
        )
        .with_repeatability(Repeatability::Low);
        let m = block_on(s.measure()).unwrap();
        assert_eq!(m.temperature_c, -45.0);
        assert_eq!(m.humidity_percent, 100.0);
        let (mut i2c, mut delay, _) = s.release();
        i2c.done();
        delay.done();
        assert_eq!(Repeatability::Medium.command(), 0x240B);
        assert_eq!(Repeatability::Medium.max_duration_ms(), 6);
    }

    #[test]
    fn a_corrupted_word_is_a_typed_checksum_error() {
        let mut s = sht(
            &[
                Transaction::write(0x44, vec![0x24, 0x00]),
                Transaction::read(0x44, vec![0x66, 0x66, 0x93, 0x80, 0x01, 0xA2]),
            ],
            &[Wait::async_delay_ms(15)],
        );
        let err = block_on(s.read()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Checksum);
        assert!(matches!(
            err,
            Sht3xError::Checksum {
                word: Word::Humidity,
                received: 0xA2,
                ..
            }
        ));
        done(s);
    }

    #[test]
    fn a_nack_while_measuring_is_kind_bus() {
        let mut s = sht(
            &[
                Transaction::write(0x44, vec![0x24, 0x00]),
                Transaction::read(0x44, vec![0; 6])
                    .with_error(BusErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)),
            ],
            &[Wait::async_delay_ms(15)],
        );
        assert_eq!(block_on(s.read()).unwrap_err().kind(), ErrorKind::Bus);
        done(s);
    }

    #[test]
    fn poll_rate_is_validated() {
        let mut s = sht(&[], &[]);
        assert_eq!(s.sample_rate_hz(), 1.0);
        for bad in [0.0, -1.0, 100.0, f32::NAN] {
            let err = s.set_poll_rate_hz(bad).unwrap_err();
            assert_eq!(err, Sht3xError::InvalidPollRate);
            assert_eq!(err.kind(), ErrorKind::OutOfRange);
        }
        s.set_poll_rate_hz(0.1).unwrap();
        assert_eq!(s.sample_rate_hz(), 0.1);
        done(s);
    }
}
