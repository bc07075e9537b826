//! Deterministic entropy for the MQTT client on target (client ids, reconnect jitter).

use ioto_core::Entropy;

/// xorshift32 (Marsaglia 2003), one byte per step.
pub struct XorShift(pub u32);

impl Entropy for XorShift {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            *b = self.0 as u8;
        }
    }
}
