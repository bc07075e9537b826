//! [`Board::init`]: the chip brought up and its peripherals turned into the typed
//! handles the agent uses, at the Pico W's pins (the wiring table is in the crate docs).

use embassy_rp::Peri;
use embassy_rp::peripherals::{
    ADC, DMA_CH2, DMA_CH3, I2C1, PIN_0, PIN_1, PIN_2, PIN_3, PIN_6, PIN_7, PIN_8, PIN_9, PIN_10,
    PIN_11, PIN_12, PIN_13, PIN_14, PIN_16, PIN_17, PIN_18, PIN_19, PIN_20, PIN_21, PIN_22, PIN_26,
    PIN_27, PIN_28, PIO1, SPI0, SPI1, UART0, UART1, USB,
};
use ioto_board_embassy::storage::LayoutError;

use crate::led::{self, Led};
use crate::net::Wifi;
use crate::sensors::{self, SensorI2c};
use crate::storage::{self, BoardStorage, LAYOUT};
use crate::{Config, HwRng};

/// The board, ready: sensor bus, flash partitions, random source, an LED, and the
/// radio waiting for [`Wifi::start`].
pub struct Board {
    /// The sensor I²C bus (I2C0: SDA GP4, SCL GP5).
    pub i2c: SensorI2c,
    /// The outbox and config partitions of the QSPI flash ([`storage::LAYOUT`]).
    pub storage: BoardStorage,
    /// The ROSC random source.
    pub rng: HwRng,
    /// An LED on GP15 (the Pico W's own LED needs the radio: [`crate::net::set_led`]).
    pub led: Led<'static>,
    /// The CYW43439 radio, not started.
    pub wifi: Wifi,
    /// Peripherals the board does not use, for the application.
    pub spare: Spare,
}

/// What [`Board::init`] leaves to the application (named after their usual role on
/// the Pico's pinout).
#[allow(missing_docs)]
pub struct Spare {
    pub uart0: Peri<'static, UART0>,
    pub uart1: Peri<'static, UART1>,
    pub spi0: Peri<'static, SPI0>,
    pub spi1: Peri<'static, SPI1>,
    pub i2c1: Peri<'static, I2C1>,
    pub pio1: Peri<'static, PIO1>,
    pub adc: Peri<'static, ADC>,
    pub usb: Peri<'static, USB>,
    pub dma_ch2: Peri<'static, DMA_CH2>,
    pub dma_ch3: Peri<'static, DMA_CH3>,
    pub pin_0: Peri<'static, PIN_0>,
    pub pin_1: Peri<'static, PIN_1>,
    pub pin_2: Peri<'static, PIN_2>,
    pub pin_3: Peri<'static, PIN_3>,
    pub pin_6: Peri<'static, PIN_6>,
    pub pin_7: Peri<'static, PIN_7>,
    pub pin_8: Peri<'static, PIN_8>,
    pub pin_9: Peri<'static, PIN_9>,
    pub pin_10: Peri<'static, PIN_10>,
    pub pin_11: Peri<'static, PIN_11>,
    pub pin_12: Peri<'static, PIN_12>,
    pub pin_13: Peri<'static, PIN_13>,
    pub pin_14: Peri<'static, PIN_14>,
    pub pin_16: Peri<'static, PIN_16>,
    pub pin_17: Peri<'static, PIN_17>,
    pub pin_18: Peri<'static, PIN_18>,
    pub pin_19: Peri<'static, PIN_19>,
    pub pin_20: Peri<'static, PIN_20>,
    pub pin_21: Peri<'static, PIN_21>,
    pub pin_22: Peri<'static, PIN_22>,
    pub pin_26: Peri<'static, PIN_26>,
    pub pin_27: Peri<'static, PIN_27>,
    pub pin_28: Peri<'static, PIN_28>,
}

impl Board {
    /// Brings the chip up as [`crate::init_with`] does and makes the typed handles.
    ///
    /// # Errors
    ///
    /// [`LayoutError`] if the flash layout does not fit or the flash was already split.
    ///
    /// # Panics
    ///
    /// If the chip's peripherals were already taken ([`crate::init`] or a previous
    /// `Board::init`).
    pub fn init(config: Config) -> Result<Self, LayoutError> {
        let p = crate::init_with(config);
        let storage = storage::storage(p.FLASH, p.DMA_CH1, &LAYOUT)?;
        Ok(Self {
            i2c: sensors::i2c(p.I2C0, p.PIN_4, p.PIN_5),
            storage,
            rng: HwRng::new(),
            led: led::external_led(p.PIN_15),
            wifi: Wifi::new(p.PIO0, p.PIN_23, p.PIN_25, p.PIN_24, p.PIN_29, p.DMA_CH0),
            spare: Spare {
                uart0: p.UART0,
                uart1: p.UART1,
                spi0: p.SPI0,
                spi1: p.SPI1,
                i2c1: p.I2C1,
                pio1: p.PIO1,
                adc: p.ADC,
                usb: p.USB,
                dma_ch2: p.DMA_CH2,
                dma_ch3: p.DMA_CH3,
                pin_0: p.PIN_0,
                pin_1: p.PIN_1,
                pin_2: p.PIN_2,
                pin_3: p.PIN_3,
                pin_6: p.PIN_6,
                pin_7: p.PIN_7,
                pin_8: p.PIN_8,
                pin_9: p.PIN_9,
                pin_10: p.PIN_10,
                pin_11: p.PIN_11,
                pin_12: p.PIN_12,
                pin_13: p.PIN_13,
                pin_14: p.PIN_14,
                pin_16: p.PIN_16,
                pin_17: p.PIN_17,
                pin_18: p.PIN_18,
                pin_19: p.PIN_19,
                pin_20: p.PIN_20,
                pin_21: p.PIN_21,
                pin_22: p.PIN_22,
                pin_26: p.PIN_26,
                pin_27: p.PIN_27,
                pin_28: p.PIN_28,
            },
        })
    }
}
