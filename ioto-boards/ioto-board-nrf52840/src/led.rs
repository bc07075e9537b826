//! The nRF52840-DK's user LEDs: LED1..LED4 on P0.13..P0.16, lit when the pin is low.

use embassy_nrf::{
    Peri,
    gpio::{Level, Output, OutputDrive, Pin},
};

/// A user LED wired from VDD through the LED to the pin (lit when the pin is low).
pub struct Led<'d> {
    pin: Output<'d>,
}

impl<'d> Led<'d> {
    /// Drives `pin` as an active-low LED, initially off.
    pub fn active_low(pin: Peri<'d, impl Pin>) -> Self {
        Self {
            pin: Output::new(pin, Level::High, OutputDrive::Standard),
        }
    }

    /// Lights the LED.
    pub fn on(&mut self) {
        self.pin.set_low();
    }

    /// Turns the LED off.
    pub fn off(&mut self) {
        self.pin.set_high();
    }

    /// Lights the LED when `on`, else turns it off.
    pub fn set(&mut self, on: bool) {
        if on { self.on() } else { self.off() }
    }

    /// Flips the LED.
    pub fn toggle(&mut self) {
        self.pin.toggle();
    }

    /// Whether the LED is lit.
    pub fn is_on(&self) -> bool {
        self.pin.is_set_low()
    }
}

/// LED1 of the nRF52840-DK; pass `p.P0_13`.
pub fn user_led<'d>(pin: Peri<'d, embassy_nrf::peripherals::P0_13>) -> Led<'d> {
    Led::active_low(pin)
}
