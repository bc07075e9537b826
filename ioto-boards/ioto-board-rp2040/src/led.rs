//! User LEDs on RP2040 boards.
//!
//! On the **Pico W** the green on-board LED hangs off the CYW43439 wireless chip
//! (its `WL_GPIO0`), not off an RP2040 pin, so it needs the `cyw43` driver and
//! firmware that arrive with networking; until then wire an LED (with a 330 Ω
//! resistor) from a free GPIO, e.g. GP15 (pin 20), to GND. On the plain **Pico** the
//! on-board LED is GP25.

use embassy_rp::{
    Peri,
    gpio::{Level, Output, Pin},
};

/// An LED wired from the pin through a resistor to GND (lit when the pin is high).
pub struct Led<'d> {
    pin: Output<'d>,
}

impl<'d> Led<'d> {
    /// Drives `pin` as an active-high LED, initially off.
    pub fn active_high(pin: Peri<'d, impl Pin>) -> Self {
        Self {
            pin: Output::new(pin, Level::Low),
        }
    }

    /// Lights the LED.
    pub fn on(&mut self) {
        self.pin.set_high();
    }

    /// Turns the LED off.
    pub fn off(&mut self) {
        self.pin.set_low();
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
        self.pin.is_set_high()
    }
}

/// The external LED that the examples use on a Pico W: GP15 (pass `p.PIN_15`).
pub fn external_led<'d>(pin: Peri<'d, embassy_rp::peripherals::PIN_15>) -> Led<'d> {
    Led::active_high(pin)
}

/// The plain Pico's on-board LED: GP25 (pass `p.PIN_25`). On a Pico W GP25 is the
/// CYW43439's SPI chip select instead; do not use this there.
pub fn pico_led<'d>(pin: Peri<'d, embassy_rp::peripherals::PIN_25>) -> Led<'d> {
    Led::active_high(pin)
}
