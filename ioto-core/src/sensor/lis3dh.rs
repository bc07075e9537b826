//! STMicroelectronics LIS3DH 3-axis accelerometer over async I2C.
//!
//! Register numbers, bit fields and sensitivities are those of the LIS3DH datasheet
//! (DocID17530): §6.1.1 (I2C, sub-address auto-increment), §2.1 and §3.2.1
//! (sensitivity, operating modes) and §8 (register description, cited by address). [`Lis3dh::init`] checks
//! `WHO_AM_I` and writes `CTRL_REG1` and `CTRL_REG4`; each [`Sensor::read`] is one
//! 6-byte burst of `OUT_X_L..OUT_Z_H`, converted to **m/s²** (1 g = 9.806 65 m/s²).
//!
//! ```rust
//! use embedded_hal_mock::eh1::i2c::{Mock, Transaction};
//! use ioto_core::sensor::{lis3dh, Lis3dh, Sensor};
//! use ioto_core::{Clock, Instant};
//!
//! struct Zero;
//! impl Clock for Zero {
//!     fn now(&self) -> Instant {
//!         Instant(0)
//!     }
//! }
//!
//! let bus = Mock::new(&[
//!     Transaction::write_read(0x18, vec![0x0F], vec![0x33]), // WHO_AM_I
//!     Transaction::write(0x18, vec![0x20, 0x77]),            // CTRL_REG1: 400 Hz, XYZ
//!     Transaction::write(0x18, vec![0x23, 0x98]),            // CTRL_REG4: BDU, ±4 g, HR
//!     // OUT_X_L.. with auto-increment: x = 0, y = 0, z = +500 digits × 2 mg = 1 g
//!     Transaction::write_read(0x18, vec![0xA8], vec![0, 0, 0, 0, 0x40, 0x1F]),
//! ]);
//! let mut accel = Lis3dh::new(bus, Zero, lis3dh::Address::Primary, lis3dh::Config::default());
//! embassy_futures::block_on(async {
//!     accel.init().await.unwrap();
//!     let s = accel.read().await.unwrap();
//!     assert!((s.values[2] - 9.806_65).abs() < 1e-4);
//! });
//! accel.release().0.done();
//! ```

use embedded_hal_async::i2c::I2c;

use super::contract::{Channel, Error, ErrorKind, Sample, Sensor, Unit};
use crate::time::Clock;

/// `WHO_AM_I` (0Fh): reads [`CHIP_ID`].
const WHO_AM_I: u8 = 0x0F;
/// `CTRL_REG1` (20h): ODR3..0 [7:4], LPen [3], Zen [2], Yen [1], Xen [0].
const CTRL_REG1: u8 = 0x20;
/// `CTRL_REG4` (23h): BDU [7], BLE [6], FS1..0 [5:4], HR [3], ST [2:1], SIM [0].
const CTRL_REG4: u8 = 0x23;
/// `STATUS_REG` (27h): ZYXDA [3] = a new X, Y and Z sample is available.
const STATUS_REG: u8 = 0x27;
/// `OUT_X_L` (28h); `OUT_X_H`, `OUT_Y_L`, `OUT_Y_H`, `OUT_Z_L`, `OUT_Z_H` follow
/// up to 2Dh: left-justified two's complement, little-endian (BLE = 0).
const OUT_X_L: u8 = 0x28;
/// Sub-address MSB: increment the register address after each byte (§6.1.1).
const AUTO_INCREMENT: u8 = 0x80;
/// The value of `WHO_AM_I`.
pub const CHIP_ID: u8 = 0x33;

const CTRL1_XYZ_EN: u8 = 0b0000_0111;
const CTRL1_LPEN: u8 = 1 << 3;
const CTRL4_BDU: u8 = 1 << 7;
const CTRL4_HR: u8 = 1 << 3;
const STATUS_ZYXDA: u8 = 1 << 3;
/// Standard gravity, m/s² per g.
const STANDARD_GRAVITY: f32 = 9.806_65;

const CHANNELS: [Channel; 3] = [
    Channel::new("x", Unit::MetersPerSecondSquared),
    Channel::new("y", Unit::MetersPerSecondSquared),
    Channel::new("z", Unit::MetersPerSecondSquared),
];

/// A LIS3DH on an I2C bus, timestamping samples with a [`Clock`].
///
/// Pass the board's clock by value (they are zero-sized, like `EmbassyClock`).
#[derive(Debug)]
pub struct Lis3dh<I2C, C> {
    i2c: I2C,
    clock: C,
    address: Address,
    config: Config,
    initialised: bool,
}

impl<I2C: I2c, C: Clock> Lis3dh<I2C, C> {
    /// A driver for the chip at `address`, to be set up as `config` by
    /// [`init`](Self::init). Does no I/O.
    pub fn new(i2c: I2C, clock: C, address: Address, config: Config) -> Self {
        Self {
            i2c,
            clock,
            address,
            config,
            initialised: false,
        }
    }

    /// Checks the chip's identity and applies the configuration (`CTRL_REG1`, then
    /// `CTRL_REG4`, the order of ST application note AN3308). The first samples
    /// after power-up settle within the turn-on time (§3.2.1: up to 7/ODR in
    /// high-resolution mode).
    ///
    /// # Errors
    ///
    /// [`Lis3dhError::InvalidConfig`] before any I/O if the data rate does not exist
    /// in the mode, [`Lis3dhError::WrongChip`] if `WHO_AM_I` is not `0x33`,
    /// [`Lis3dhError::Bus`] if a transfer fails.
    pub async fn init(&mut self) -> Result<(), Lis3dhError<I2C::Error>> {
        self.initialised = false;
        let (ctrl1, ctrl4) = self.config.registers()?;
        let found = self.read_register(WHO_AM_I).await?;
        if found != CHIP_ID {
            return Err(Lis3dhError::WrongChip { found });
        }
        self.write_register(CTRL_REG1, ctrl1).await?;
        self.write_register(CTRL_REG4, ctrl4).await?;
        self.initialised = true;
        Ok(())
    }

    /// Changes data rate, full scale or mode; the chip is reconfigured by running
    /// [`init`](Self::init) again.
    ///
    /// # Errors
    ///
    /// As [`init`](Self::init); on error the driver must be initialised again.
    pub async fn reconfigure(&mut self, config: Config) -> Result<(), Lis3dhError<I2C::Error>> {
        config.registers()?;
        self.config = config;
        self.init().await
    }

    /// One sample in digits of the current mode (right-justified: ±2047 in
    /// high-resolution mode), X, Y, Z.
    ///
    /// # Errors
    ///
    /// [`Lis3dhError::NotInitialised`] before [`init`](Self::init) succeeded,
    /// [`Lis3dhError::Bus`] if the transfer fails.
    pub async fn read_raw(&mut self) -> Result<[i16; 3], Lis3dhError<I2C::Error>> {
        if !self.initialised {
            return Err(Lis3dhError::NotInitialised);
        }
        let mut out = [0u8; 6];
        self.i2c
            .write_read(self.address.bits(), &[OUT_X_L | AUTO_INCREMENT], &mut out)
            .await
            .map_err(Lis3dhError::Bus)?;
        let shift = 16 - self.config.mode.bits();
        let axis = |lo: u8, hi: u8| i16::from_le_bytes([lo, hi]) >> shift;
        Ok([
            axis(out[0], out[1]),
            axis(out[2], out[3]),
            axis(out[4], out[5]),
        ])
    }

    /// Whether a new X, Y, Z sample is waiting (`STATUS_REG.ZYXDA`).
    ///
    /// # Errors
    ///
    /// [`Lis3dhError::NotInitialised`], [`Lis3dhError::Bus`].
    pub async fn data_ready(&mut self) -> Result<bool, Lis3dhError<I2C::Error>> {
        if !self.initialised {
            return Err(Lis3dhError::NotInitialised);
        }
        Ok(self.read_register(STATUS_REG).await? & STATUS_ZYXDA != 0)
    }

    /// The configuration the chip is (or will be) set up with.
    pub fn config(&self) -> Config {
        self.config
    }

    /// Gives back the bus and the clock.
    pub fn release(self) -> (I2C, C) {
        (self.i2c, self.clock)
    }

    async fn read_register(&mut self, register: u8) -> Result<u8, Lis3dhError<I2C::Error>> {
        let mut value = [0u8];
        self.i2c
            .write_read(self.address.bits(), &[register], &mut value)
            .await
            .map_err(Lis3dhError::Bus)?;
        Ok(value[0])
    }

    async fn write_register(
        &mut self,
        register: u8,
        value: u8,
    ) -> Result<(), Lis3dhError<I2C::Error>> {
        self.i2c
            .write(self.address.bits(), &[register, value])
            .await
            .map_err(Lis3dhError::Bus)
    }
}

impl<I2C: I2c, C: Clock> Sensor<3> for Lis3dh<I2C, C> {
    type Error = Lis3dhError<I2C::Error>;

    /// X, Y, Z in m/s², stamped when the burst read completed.
    async fn read(&mut self) -> Result<Sample<3>, Self::Error> {
        let raw = self.read_raw().await?;
        let at = self.clock.now();
        let scale = self.config.sensitivity_mg() * 1e-3 * STANDARD_GRAVITY;
        Ok(Sample::new(at, raw.map(|d| f32::from(d) * scale)))
    }

    fn sample_rate_hz(&self) -> f32 {
        self.config.sample_rate_hz()
    }

    fn channels(&self) -> [Channel; 3] {
        CHANNELS
    }
}

/// How the chip is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Output data rate.
    pub data_rate: DataRate,
    /// Measurement range.
    pub full_scale: FullScale,
    /// Resolution and power.
    pub mode: Mode,
}

impl Default for Config {
    /// 400 Hz, ±4 g, high resolution: vibration up to 200 Hz with 2 mg steps.
    fn default() -> Self {
        Self {
            data_rate: DataRate::Hz400,
            full_scale: FullScale::G4,
            mode: Mode::HighResolution,
        }
    }
}

impl Config {
    /// Milli-g per digit of the right-justified output (§3.2.1): 1/2/4/12 in
    /// high-resolution mode at ±2/4/8/16 g, four times that in normal mode, 16 times
    /// in low-power mode.
    pub fn sensitivity_mg(&self) -> f32 {
        let high_res = match self.full_scale {
            FullScale::G2 => 1.0,
            FullScale::G4 => 2.0,
            FullScale::G8 => 4.0,
            FullScale::G16 => 12.0,
        };
        match self.mode {
            Mode::HighResolution => high_res,
            Mode::Normal => high_res * 4.0,
            Mode::LowPower => high_res * 16.0,
        }
    }

    /// The output data rate in hertz (0 for [`DataRate::PowerDown`]).
    pub fn sample_rate_hz(&self) -> f32 {
        match self.data_rate {
            DataRate::PowerDown => 0.0,
            DataRate::Hz1 => 1.0,
            DataRate::Hz10 => 10.0,
            DataRate::Hz25 => 25.0,
            DataRate::Hz50 => 50.0,
            DataRate::Hz100 => 100.0,
            DataRate::Hz200 => 200.0,
            DataRate::Hz400 => 400.0,
            DataRate::Hz1344 => 1344.0,
            DataRate::Hz1600LowPower => 1600.0,
            DataRate::Hz5376LowPower => 5376.0,
        }
    }

    /// `CTRL_REG1` and `CTRL_REG4` values (BDU always on: the burst read never mixes
    /// two samples).
    fn registers<E>(&self) -> Result<(u8, u8), Lis3dhError<E>> {
        let low_power = self.mode == Mode::LowPower;
        // ODR3..0 (§8, CTRL_REG1 "data rate configuration"): 1000 exists only in low-power
        // mode; 1001 is 1.344 kHz in normal/high-res mode, 5.376 kHz in low-power.
        let odr: u8 = match (self.data_rate, low_power) {
            (DataRate::PowerDown, _) => 0b0000,
            (DataRate::Hz1, _) => 0b0001,
            (DataRate::Hz10, _) => 0b0010,
            (DataRate::Hz25, _) => 0b0011,
            (DataRate::Hz50, _) => 0b0100,
            (DataRate::Hz100, _) => 0b0101,
            (DataRate::Hz200, _) => 0b0110,
            (DataRate::Hz400, _) => 0b0111,
            (DataRate::Hz1600LowPower, true) => 0b1000,
            (DataRate::Hz1344, false) | (DataRate::Hz5376LowPower, true) => 0b1001,
            _ => return Err(Lis3dhError::InvalidConfig),
        };
        let ctrl1 = odr << 4 | if low_power { CTRL1_LPEN } else { 0 } | CTRL1_XYZ_EN;
        let fs: u8 = match self.full_scale {
            FullScale::G2 => 0b00,
            FullScale::G4 => 0b01,
            FullScale::G8 => 0b10,
            FullScale::G16 => 0b11,
        };
        let hr = if self.mode == Mode::HighResolution {
            CTRL4_HR
        } else {
            0
        };
        Ok((ctrl1, CTRL4_BDU | fs << 4 | hr))
    }
}

/// The chip's 7-bit I2C address, set by its SA0 pin (§6.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Address {
    /// SA0 low: `0x18`.
    #[default]
    Primary,
    /// SA0 high: `0x19`.
    Secondary,
}

impl Address {
    /// The 7-bit address.
    pub const fn bits(self) -> u8 {
        match self {
            Self::Primary => 0x18,
            Self::Secondary => 0x19,
        }
    }
}

/// Output data rate (`CTRL_REG1.ODR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DataRate {
    /// No conversions (the power-on state).
    PowerDown,
    /// 1 Hz.
    Hz1,
    /// 10 Hz.
    Hz10,
    /// 25 Hz.
    Hz25,
    /// 50 Hz.
    Hz50,
    /// 100 Hz.
    Hz100,
    /// 200 Hz.
    Hz200,
    /// 400 Hz.
    Hz400,
    /// 1.344 kHz, normal and high-resolution modes only.
    Hz1344,
    /// 1.6 kHz, low-power mode only.
    Hz1600LowPower,
    /// 5.376 kHz, low-power mode only.
    Hz5376LowPower,
}

/// Measurement range (`CTRL_REG4.FS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FullScale {
    /// ±2 g.
    G2,
    /// ±4 g.
    G4,
    /// ±8 g.
    G8,
    /// ±16 g.
    G16,
}

/// Operating mode (`CTRL_REG1.LPen`, `CTRL_REG4.HR`; §3.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Mode {
    /// 12-bit output (HR = 1).
    HighResolution,
    /// 10-bit output.
    Normal,
    /// 8-bit output (LPen = 1).
    LowPower,
}

impl Mode {
    /// Significant bits of the left-justified 16-bit output.
    pub const fn bits(self) -> u32 {
        match self {
            Self::HighResolution => 12,
            Self::Normal => 10,
            Self::LowPower => 8,
        }
    }
}

/// A failed LIS3DH operation; `E` is the I2C bus error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Lis3dhError<E> {
    /// The I2C transfer failed.
    Bus(E),
    /// `WHO_AM_I` read `found`, not `0x33`: another part is at the address.
    WrongChip {
        /// The identity the part reported.
        found: u8,
    },
    /// Read before [`Lis3dh::init`] succeeded.
    NotInitialised,
    /// The data rate does not exist in the chosen mode.
    InvalidConfig,
}

impl<E: embedded_hal_async::i2c::Error> Error for Lis3dhError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Bus(_) => ErrorKind::Bus,
            Self::WrongChip { .. } => ErrorKind::WrongChip,
            Self::NotInitialised => ErrorKind::NotReady,
            Self::InvalidConfig => ErrorKind::OutOfRange,
        }
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for Lis3dhError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Bus(e) => write!(f, "LIS3DH I2C transfer failed: {e:?}"),
            Self::WrongChip { found } => {
                write!(f, "LIS3DH WHO_AM_I read {found:#04x}, expected 0x33")
            }
            Self::NotInitialised => f.write_str("LIS3DH read before init"),
            Self::InvalidConfig => f.write_str("LIS3DH data rate not available in this mode"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for Lis3dhError<E> {}

#[cfg(test)]
#[path = "lis3dh_tests.rs"]
mod tests;
