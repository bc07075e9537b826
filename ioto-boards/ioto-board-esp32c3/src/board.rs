//! [`Board::init`]: the chip brought up (clocks, console, heap, esp-rtos) and its
//! peripherals turned into the typed handles the agent uses (the wiring table is in the
//! crate docs).

use esp_hal::peripherals::{
    BT, GPIO0, GPIO1, GPIO2, GPIO3, GPIO4, GPIO7, GPIO9, GPIO10, LEDC, RMT, SPI2, UART1,
};
use ioto_board_embassy::storage::LayoutError;

use crate::led::Led;
use crate::net::{HEAP_BYTES, Wifi};
use crate::sensors::{self, SensorI2c};
use crate::storage::{self, BoardStorage, LAYOUT};
use crate::{Config, HwRng};

/// The board, ready: esp-rtos running, sensor bus, flash partitions, RNG, LED, and
/// the radio waiting for [`Wifi::start`].
pub struct Board {
    /// The sensor I²C bus (I2C0: SDA GPIO5, SCL GPIO6).
    pub i2c: SensorI2c,
    /// The outbox and config partitions of the flash ([`storage::LAYOUT`]).
    pub storage: BoardStorage,
    /// The hardware RNG (holds ADC1 as its entropy source).
    pub rng: HwRng<'static>,
    /// The LED on GPIO8 (active low).
    pub led: Led<'static>,
    /// The Wi-Fi radio, not started.
    pub wifi: Wifi,
    /// Peripherals the board does not use, for the application.
    pub spare: Spare,
}

/// What [`Board::init`] leaves to the application. GPIO9 is the BOOT button on most
/// boards; GPIO18 / GPIO19 (USB) and GPIO20 / GPIO21 (UART0) carry the console.
#[allow(missing_docs)]
pub struct Spare {
    pub gpio0: GPIO0<'static>,
    pub gpio1: GPIO1<'static>,
    pub gpio2: GPIO2<'static>,
    pub gpio3: GPIO3<'static>,
    pub gpio4: GPIO4<'static>,
    pub gpio7: GPIO7<'static>,
    pub gpio9: GPIO9<'static>,
    pub gpio10: GPIO10<'static>,
    pub spi2: SPI2<'static>,
    pub uart1: UART1<'static>,
    pub rmt: RMT<'static>,
    pub ledc: LEDC<'static>,
    pub bt: BT<'static>,
}

/// Why [`Board::init`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoardError {
    /// The sensor bus could not be configured.
    I2c,
    /// The flash layout does not fit the chip, or the flash was already split.
    Layout(LayoutError),
}

impl core::fmt::Display for BoardError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BoardError::I2c => f.write_str("the sensor I2C bus could not be configured"),
            BoardError::Layout(e) => write!(f, "flash layout: {e}"),
        }
    }
}

impl core::error::Error for BoardError {}

impl Board {
    /// Brings the chip up as [`crate::init_with`] does, gives the heap
    /// [`HEAP_BYTES`] (for the radio), starts esp-rtos and makes the typed handles.
    ///
    /// # Errors
    ///
    /// [`BoardError`] if the sensor bus or the flash cannot be set up.
    ///
    /// # Panics
    ///
    /// If the chip's peripherals were already taken ([`crate::init`] or a previous
    /// `Board::init`).
    pub fn init(config: Config) -> Result<Self, BoardError> {
        let p = crate::init_with(config);
        esp_alloc::heap_allocator!(size: HEAP_BYTES);
        crate::start_rtos(p.TIMG0, p.FROM_CPU_INTR0);
        let i2c = sensors::i2c(p.I2C0, p.GPIO5, p.GPIO6).map_err(|_| BoardError::I2c)?;
        let storage = storage::storage(p.FLASH, &LAYOUT).map_err(BoardError::Layout)?;
        Ok(Self {
            i2c,
            storage,
            rng: HwRng::new(p.RNG, p.ADC1),
            led: Led::active_low(p.GPIO8),
            wifi: Wifi::new(p.WIFI),
            spare: Spare {
                gpio0: p.GPIO0,
                gpio1: p.GPIO1,
                gpio2: p.GPIO2,
                gpio3: p.GPIO3,
                gpio4: p.GPIO4,
                gpio7: p.GPIO7,
                gpio9: p.GPIO9,
                gpio10: p.GPIO10,
                spi2: p.SPI2,
                uart1: p.UART1,
                rmt: p.RMT,
                ledc: p.LEDC,
                bt: p.BT,
            },
        })
    }
}
