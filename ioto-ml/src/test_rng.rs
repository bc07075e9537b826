//! A deterministic xorshift32 generator for the unit tests' pseudo-random data.

/// xorshift32 (Marsaglia): the same sequence on every run and every machine.
pub(crate) struct XorShift(u32);

impl XorShift {
    /// A generator starting from `seed` (not 0).
    pub(crate) fn new(seed: u32) -> Self {
        XorShift(seed)
    }

    /// The next 32 bits.
    pub(crate) fn next_u32(&mut self) -> u32 {
        let mut s = self.0;
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        self.0 = s;
        s
    }

    /// The next 32 bits as an `i32`.
    pub(crate) fn next_i32(&mut self) -> i32 {
        self.next_u32() as i32
    }

    /// The top 8 bits of the next 32 as an `i8`.
    pub(crate) fn next_i8(&mut self) -> i8 {
        (self.next_u32() >> 24) as i8
    }
}
