//! Sensing traits: what a board offers the feature pipeline.

use crate::time::Instant;

/// One reading from a scalar sensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// When the reading was taken.
    pub at: Instant,
    /// The reading, in the sensor's unit.
    pub value: f32,
}

/// A scalar sensor read asynchronously (I2C/SPI transfers, ADC conversions).
pub trait Sensor {
    /// The error a failed read returns (bus error, timeout, out of range).
    type Error: core::fmt::Debug;

    /// Takes one reading.
    fn read(&mut self) -> impl core::future::Future<Output = Result<Sample, Self::Error>>;
}

/// A source of random bytes: the chip's hardware RNG on boards, the OS on hosts.
/// Used for MQTT client ids, WebSocket masks, TLS and backoff jitter.
pub trait Entropy {
    /// Fills `buf` with random bytes.
    fn fill_bytes(&mut self, buf: &mut [u8]);

    /// A random `u32`.
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
}
