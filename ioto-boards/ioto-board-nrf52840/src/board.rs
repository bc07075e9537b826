//! [`Board::init`]: the chip brought up and its peripherals turned into the typed
//! handles the agent uses, at the nRF52840-DK's pins (the wiring table is in the crate
//! docs).

use embassy_nrf::Peri;
use embassy_nrf::peripherals::{
    P0_03, P0_04, P0_05, P0_06, P0_07, P0_08, P0_11, P0_12, P0_14, P0_15, P0_16, P0_24, P0_25,
    P0_28, PPI_CH0, PPI_CH1, PPI_GROUP0, PWM0, SAADC, TIMER1, UARTE0, USBD,
};
use ioto_board_embassy::storage::LayoutError;

use crate::led::{self, Led};
use crate::net::Ethernet;
use crate::sensors::{self, SensorI2c, SensorSpi};
use crate::storage::{self, BoardStorage, LAYOUT};
use crate::{Config, HwRng};

/// The board, ready: sensor buses, flash partitions, RNG, LED, and the W5500 waiting
/// for [`Ethernet::start`].
pub struct Board {
    /// The sensor I²C bus (TWIM0: SDA P0.26, SCL P0.27).
    pub i2c: SensorI2c,
    /// An SPI sensor (SPIM2: SCK P1.04, MOSI P1.05, MISO P1.06, CS P1.07).
    pub spi: SensorSpi,
    /// The outbox and config partitions of the internal flash ([`storage::LAYOUT`]).
    pub storage: BoardStorage,
    /// The hardware RNG.
    pub rng: HwRng<'static>,
    /// LED1 (P0.13).
    pub led: Led<'static>,
    /// The W5500 Ethernet module on SPIM3, not started.
    pub ethernet: Ethernet,
    /// Peripherals the board does not use, for the application.
    pub spare: Spare,
}

/// What [`Board::init`] leaves to the application: the DK's other LEDs and buttons,
/// UARTE0 with the pins of the DK's USB serial port and what a `BufferedUarte` needs
/// (a timer, two PPI channels and a group; e.g. for a PPP modem), the ADC, a PWM and
/// USB.
#[allow(missing_docs)]
pub struct Spare {
    pub led2: Peri<'static, P0_14>,
    pub led3: Peri<'static, P0_15>,
    pub led4: Peri<'static, P0_16>,
    pub button1: Peri<'static, P0_11>,
    pub button2: Peri<'static, P0_12>,
    pub button3: Peri<'static, P0_24>,
    pub button4: Peri<'static, P0_25>,
    pub uarte0: Peri<'static, UARTE0>,
    /// UART TX of the DK's USB serial port.
    pub uart_tx: Peri<'static, P0_06>,
    /// UART RX of the DK's USB serial port.
    pub uart_rx: Peri<'static, P0_08>,
    /// UART RTS of the DK's USB serial port.
    pub uart_rts: Peri<'static, P0_05>,
    /// UART CTS of the DK's USB serial port.
    pub uart_cts: Peri<'static, P0_07>,
    pub timer1: Peri<'static, TIMER1>,
    pub ppi_ch0: Peri<'static, PPI_CH0>,
    pub ppi_ch1: Peri<'static, PPI_CH1>,
    pub ppi_group0: Peri<'static, PPI_GROUP0>,
    pub saadc: Peri<'static, SAADC>,
    /// Analog inputs A0..A2 of the Arduino header.
    pub a0: Peri<'static, P0_03>,
    pub a1: Peri<'static, P0_04>,
    pub a2: Peri<'static, P0_28>,
    pub pwm0: Peri<'static, PWM0>,
    pub usbd: Peri<'static, USBD>,
}

/// Why [`Board::init`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoardError {
    /// A driver the board makes once was already made.
    Taken,
    /// The flash layout does not fit the chip.
    Layout(LayoutError),
}

impl core::fmt::Display for BoardError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BoardError::Taken => f.write_str("the board was already initialised"),
            BoardError::Layout(e) => write!(f, "flash layout: {e}"),
        }
    }
}

impl core::error::Error for BoardError {}

impl Board {
    /// Brings the chip up as [`crate::init_with`] does and makes the typed handles.
    ///
    /// # Errors
    ///
    /// [`BoardError`] if the flash or a bus was already taken.
    ///
    /// # Panics
    ///
    /// If the chip's peripherals were already taken ([`crate::init`] or a previous
    /// `Board::init`).
    pub fn init(config: Config) -> Result<Self, BoardError> {
        let p = crate::init_with(config);
        let i2c = sensors::i2c(p.TWISPI0, p.P0_26, p.P0_27).ok_or(BoardError::Taken)?;
        let spi = sensors::spi(p.SPI2, p.P1_04, p.P1_06, p.P1_05, p.P1_07);
        let storage = storage::storage(p.NVMC, &LAYOUT).map_err(|e| match e {
            LayoutError::Taken => BoardError::Taken,
            other => BoardError::Layout(other),
        })?;
        let ethernet = Ethernet::new(p.SPI3, p.P1_15, p.P1_14, p.P1_13, p.P1_12, p.P1_11, p.P1_10);
        Ok(Self {
            i2c,
            spi,
            storage,
            rng: HwRng::new(p.RNG),
            led: led::user_led(p.P0_13),
            ethernet,
            spare: Spare {
                led2: p.P0_14,
                led3: p.P0_15,
                led4: p.P0_16,
                button1: p.P0_11,
                button2: p.P0_12,
                button3: p.P0_24,
                button4: p.P0_25,
                uarte0: p.UARTE0,
                uart_tx: p.P0_06,
                uart_rx: p.P0_08,
                uart_rts: p.P0_05,
                uart_cts: p.P0_07,
                timer1: p.TIMER1,
                ppi_ch0: p.PPI_CH0,
                ppi_ch1: p.PPI_CH1,
                ppi_group0: p.PPI_GROUP0,
                saadc: p.SAADC,
                a0: p.P0_03,
                a1: p.P0_04,
                a2: p.P0_28,
                pwm0: p.PWM0,
                usbd: p.USBD,
            },
        })
    }
}
