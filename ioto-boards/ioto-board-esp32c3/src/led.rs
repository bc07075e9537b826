//! Plain GPIO LEDs on ESP32-C3 boards.
//!
//! Most small ESP32-C3 boards (e.g. the "SuperMini") have a blue LED from 3V3 to
//! GPIO8, lit when the pin is low. Espressif's DevKitM-1 / DevKitC-02 put a WS2812
//! RGB LED on GPIO8 instead, which needs a timed protocol (RMT); on those boards
//! wire a plain LED with a 330 Ω resistor to another free pin.

use esp_hal::gpio::{Level, Output, OutputConfig, OutputPin};

/// A plain LED on a GPIO.
pub struct Led<'d> {
    pin: Output<'d>,
    lit: Level,
}

impl<'d> Led<'d> {
    /// An LED wired from 3V3 to the pin (lit when the pin is low), initially off.
    pub fn active_low(pin: impl OutputPin + 'd) -> Self {
        Self::new(pin, Level::Low)
    }

    /// An LED wired from the pin to GND (lit when the pin is high), initially off.
    pub fn active_high(pin: impl OutputPin + 'd) -> Self {
        Self::new(pin, Level::High)
    }

    fn new(pin: impl OutputPin + 'd, lit: Level) -> Self {
        Self {
            pin: Output::new(pin, !lit, OutputConfig::default()),
            lit,
        }
    }

    /// Lights the LED.
    pub fn on(&mut self) {
        self.pin.set_level(self.lit);
    }

    /// Turns the LED off.
    pub fn off(&mut self) {
        self.pin.set_level(!self.lit);
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
        self.pin.output_level() == self.lit
    }
}
