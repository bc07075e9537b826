//! The sensing contract: what every sensor driver offers the feature pipeline.
//!
//! A [`Sensor<N>`](Sensor) produces timestamped [`Sample<N>`](Sample)s of `N` channels
//! (three axes of an accelerometer, temperature and humidity of an environment
//! sensor), describes each channel with a [`Channel`] (name and [`Unit`]), knows the
//! rate it is sampled at, and fails with an error whose [`ErrorKind`] a caller can act
//! on without knowing the driver.
//!
//! ```rust
//! use ioto_core::sensor::{Channel, ErrorKind, Sample, Sensor, Unit};
//! use ioto_core::Instant;
//!
//! /// A sensor that always reads 21.5 °C.
//! struct Fixed;
//!
//! impl Sensor<1> for Fixed {
//!     type Error = ErrorKind;
//!     async fn read(&mut self) -> Result<Sample<1>, ErrorKind> {
//!         Ok(Sample::new(Instant(0), [21.5]))
//!     }
//!     fn sample_rate_hz(&self) -> f32 {
//!         1.0
//!     }
//!     fn channels(&self) -> [Channel; 1] {
//!         [Channel::new("temperature", Unit::DegreesCelsius)]
//!     }
//! }
//!
//! let sample = embassy_futures::block_on(Fixed.read()).unwrap();
//! assert_eq!(sample.values, [21.5]);
//! ```

use core::future::Future;

use crate::time::Instant;

/// A sensor of `N` channels, read asynchronously (I2C/SPI transfers, ADC conversions).
///
/// `read` returns one sample per call. Drivers of free-running chips return the
/// newest conversion; drivers of on-demand chips start a conversion and wait for
/// it. Pace reads with [`fill_window`](super::fill_window) or your own ticker.
pub trait Sensor<const N: usize> {
    /// The error a failed read returns; [`Error::kind`] classifies it.
    type Error: Error;

    /// Takes one reading of all `N` channels, stamped with the time it was taken.
    fn read(&mut self) -> impl Future<Output = Result<Sample<N>, Self::Error>>;

    /// The rate the sensor is sampled at, in hertz: the output data rate of a
    /// free-running chip, the poll rate of an on-demand one. Windows and frequency
    /// features are computed at this rate.
    fn sample_rate_hz(&self) -> f32;

    /// What each channel measures, in the order of [`Sample::values`].
    fn channels(&self) -> [Channel; N];
}

impl<T: Sensor<N> + ?Sized, const N: usize> Sensor<N> for &mut T {
    type Error = T::Error;

    fn read(&mut self) -> impl Future<Output = Result<Sample<N>, Self::Error>> {
        T::read(self)
    }

    fn sample_rate_hz(&self) -> f32 {
        T::sample_rate_hz(self)
    }

    fn channels(&self) -> [Channel; N] {
        T::channels(self)
    }
}

/// A sensor error a caller can classify without knowing the driver, like
/// `embedded_hal::i2c::Error`.
pub trait Error: core::fmt::Debug {
    /// The class of failure: retry on [`ErrorKind::Bus`], replace the part on
    /// [`ErrorKind::WrongChip`], and so on.
    fn kind(&self) -> ErrorKind;
}

impl Error for ErrorKind {
    fn kind(&self) -> ErrorKind {
        *self
    }
}

impl Error for core::convert::Infallible {
    fn kind(&self) -> ErrorKind {
        match *self {}
    }
}

/// One reading of an `N`-channel sensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample<const N: usize> {
    /// When the reading was taken, on the device's monotonic clock.
    pub at: Instant,
    /// One value per channel, in the units of [`Sensor::channels`].
    pub values: [f32; N],
}

impl<const N: usize> Sample<N> {
    /// A sample of `values` taken at `at`.
    pub const fn new(at: Instant, values: [f32; N]) -> Self {
        Self { at, values }
    }
}

#[cfg(feature = "defmt")]
impl<const N: usize> defmt::Format for Sample<N> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Sample {{ at: {=u64} us, values: {} }}",
            self.at.0,
            self.values
        );
    }
}

/// What one channel of a sensor measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Channel {
    /// A short name: `"x"`, `"temperature"`.
    pub name: &'static str,
    /// The unit of the channel's values.
    pub unit: Unit,
}

impl Channel {
    /// A channel called `name`, measured in `unit`.
    pub const fn new(name: &'static str, unit: Unit) -> Self {
        Self { name, unit }
    }
}

/// The unit of a channel's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Unit {
    /// Acceleration in metres per second squared (SI).
    MetersPerSecondSquared,
    /// Acceleration in standard gravities (1 g = 9.806 65 m/s²).
    StandardGravity,
    /// Temperature in degrees Celsius.
    DegreesCelsius,
    /// Relative humidity in percent (0–100).
    RelativeHumidityPercent,
    /// Pressure in pascals.
    Pascal,
    /// Electric potential in volts.
    Volt,
    /// Electric current in amperes.
    Ampere,
    /// A dimensionless quantity (counts, ratios).
    Dimensionless,
}

impl Unit {
    /// The unit's symbol, for logs and telemetry: `"m/s²"`, `"°C"`.
    pub const fn symbol(self) -> &'static str {
        match self {
            Self::MetersPerSecondSquared => "m/s²",
            Self::StandardGravity => "g",
            Self::DegreesCelsius => "°C",
            Self::RelativeHumidityPercent => "%RH",
            Self::Pascal => "Pa",
            Self::Volt => "V",
            Self::Ampere => "A",
            Self::Dimensionless => "1",
        }
    }
}

/// The class of a sensor failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bus transfer failed (no acknowledge, arbitration loss, bus fault).
    Bus,
    /// The sensor did not answer in time.
    Timeout,
    /// A different part answered at the sensor's address (identity register mismatch).
    WrongChip,
    /// A value or setting outside what the sensor supports.
    OutOfRange,
    /// The sensor is not initialised or has no data yet.
    NotReady,
    /// The data arrived but failed its checksum (a corrupted transfer).
    Checksum,
    /// Anything else.
    Other,
}

impl core::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Bus => "bus transfer failed",
            Self::Timeout => "sensor timed out",
            Self::WrongChip => "wrong chip at the sensor's address",
            Self::OutOfRange => "value or setting out of range",
            Self::NotReady => "sensor not ready",
            Self::Checksum => "checksum mismatch",
            Self::Other => "sensor error",
        })
    }
}

impl core::error::Error for ErrorKind {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Counter(u32);

    impl Sensor<2> for Counter {
        type Error = ErrorKind;

        async fn read(&mut self) -> Result<Sample<2>, ErrorKind> {
            self.0 += 1;
            if self.0 > 2 {
                return Err(ErrorKind::NotReady);
            }
            Ok(Sample::new(
                Instant(u64::from(self.0)),
                [self.0 as f32, 0.5],
            ))
        }

        fn sample_rate_hz(&self) -> f32 {
            50.0
        }

        fn channels(&self) -> [Channel; 2] {
            [
                Channel::new("count", Unit::Dimensionless),
                Channel::new("half", Unit::Volt),
            ]
        }
    }

    async fn read_twice<S: Sensor<2>>(mut s: S) -> Result<[Sample<2>; 2], S::Error> {
        Ok([s.read().await?, s.read().await?])
    }

    #[test]
    fn a_mutable_reference_is_a_sensor() {
        let mut c = Counter(0);
        let [a, b] = embassy_futures::block_on(read_twice(&mut c)).unwrap();
        assert_eq!(a, Sample::new(Instant(1), [1.0, 0.5]));
        assert_eq!(b.values[0], 2.0);
        let by_ref = &mut c;
        assert_eq!(by_ref.sample_rate_hz(), 50.0);
        assert_eq!(by_ref.channels()[1].unit.symbol(), "V");
        let err = embassy_futures::block_on(by_ref.read()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotReady);
    }

    #[test]
    fn error_kinds_describe_themselves() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(
            ErrorKind::WrongChip.to_string(),
            "wrong chip at the sensor's address"
        );
        assert_eq!(ErrorKind::Checksum.kind(), ErrorKind::Checksum);
        assert_eq!(Unit::MetersPerSecondSquared.symbol(), "m/s²");
    }
}
